"""The HTML report: self-contained, escaped, failures first; it opens in headless chromium without errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser_support import CHROMIUM, CHROMIUM_FLAGS

from evals.models import CaseResult, JudgeScore, MetricResult, SkillOutput
from evals.report import histogram, render_report
from evals.summary import summarise

CHROMIUM_ARGS = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]  # Playwright adds it
MANIFEST = {"suite": "skills", "dataset": "skills.yaml", "dataset_sha256": "0" * 64, "provider": "offline", "seed": 0}


def case(index: int, status: str, score: float = 1.0, text: str = "## Verdict\nA good fit.") -> CaseResult:
    metric = MetricResult(
        name="fit_verdict", skill="fit", score=score, passed=score == 1.0, problems=[] if score == 1.0 else ["wrong"]
    )
    return CaseResult(
        case_id=f"case-{index}",
        suite="skills",
        index=index,
        lang="en",
        scenario="traceability",
        status=status,  # type: ignore[arg-type]
        metrics=[metric, MetricResult(name="length", skill="fit", score=1.0, passed=True)],
        outputs=[SkillOutput(skill="fit", mode="offline", language="en", text=text, latency_ms=12.0 + index)],
        judge=[JudgeScore(skill="fit", lang="en", error="invalid_output: the reply holds no JSON object")],
        error="QueryError: the query is empty" if status == "error" else None,
    )


HOSTILE = '<script>alert("x")</script><img src="https://example.org/pixel.png">'


def report(results: list[CaseResult]) -> str:
    return render_report(summarise(results, MANIFEST, "run-1"), results)


def test_report_is_self_contained_escaped_and_lists_failures_first() -> None:
    results = [case(0, "pass"), case(1, "fail", 0.0, HOSTILE), case(2, "error", 0.0)]
    html = report(results)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html), "no external assets"
    assert "Content-Security-Policy" in html
    order = [m.group(1) for m in re.finditer(r'<details id="case-(case-\d)"', html)]
    assert order == ["case-2", "case-1", "case-0"]
    assert html.count("<svg") == 3  # one chart per metric (fit_verdict, length) and the latency chart
    assert "judge failures (not scored)" in html


def test_histogram_bins() -> None:
    assert histogram([0.0, 0.19, 0.5, 0.99, 1.0, 1.0]) == [2, 0, 1, 0, 3]


def test_report_opens_in_headless_chromium_without_errors(tmp_path: Path, kb: Any, shipped_index: Any) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is required: apt-get install chromium (make check installs it)"

    from evals.runner import RunConfig, run_suite

    settings = shipped_index[0].model_copy(update={"home": tmp_path / "home"})
    out = tmp_path / "run"
    run_suite(settings, kb, RunConfig(suite="skills", out_dir=out, limit=2), progress=False)
    hostile = tmp_path / "hostile.html"
    hostile.write_text(report([case(0, "pass"), case(1, "fail", 0.0, HOSTILE)]), encoding="utf-8")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for path in (out / "report.html", hostile):
                check_in_browser(browser, path)
        finally:
            browser.close()


def check_in_browser(browser: Any, path: Path) -> None:
    page = browser.new_page()
    problems: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert problems == [], problems
    assert dialogs == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert page.locator("h1").inner_text().startswith("Eval skills")
    assert page.locator("svg").count() >= 2
    first = page.locator('details[id^="case-"]').first
    first.locator(":scope > summary").click()
    assert first.evaluate("d => d.open")
    page.close()
