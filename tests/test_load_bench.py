"""bench/load.py: its reply checks, its message mix, and a short real run against `nego ui`.

The real run starts the app as a subprocess over a private copy of the session's
index, drives it with 2 gradio_client sessions for a few seconds, and checks the
figures it prints and writes; a second run is interrupted (SIGINT) and must
leave no app process behind.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ui_support import clone_shipped_index

from bench import load

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "load.py"


def _outputs(sent: str, reply: Any, notices: str = "", conversation: str | None = "c-1") -> list[Any]:
    chatbot = [
        {"role": "user", "content": [{"type": "text", "text": "earlier question"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "earlier answer"}]},
        {"role": "user", "content": [{"type": "text", "text": sent}]},
        {"role": "assistant", "content": reply},
        {"role": "assistant", "content": "[1] a citation", "metadata": {"title": "[1] case"}},
    ]
    dropdown: dict[str, Any] = {"__type__": "update", "value": conversation, "choices": []}
    return [chatbot, "", dropdown, notices, [None, 1, None, 2, 2]]


def test_a_good_reply_is_read_with_its_conversation() -> None:
    question = "什么是哈希上链？"
    problem, reply, conversation = load.read_reply(_outputs(question, "哈希上链就是……来源 [1]"), question)
    assert (problem, reply, conversation) == (None, "哈希上链就是……来源 [1]", "c-1")
    info = "- ∅ **no_knowledge** · the knowledge base has nothing on this"
    assert load.read_reply(_outputs("q", [{"type": "text", "text": "an answer"}], info), "q")[0] is None


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (_outputs("q", ""), "empty reply"),
        (_outputs("q", "…"), "empty reply"),
        (_outputs("other question", "an answer"), "the last user message is not the one sent"),
        (_outputs("q", "partial text\n\n> ⚠ Reply interrupted: what is above is partial"), "Reply interrupted"),
        (_outputs("q", "partial", "⚠ 回答出错 / The reply failed (RuntimeError)"), "The reply failed"),
        (_outputs("q", "an answer", "⚠ history.sqlite: history write failed: disk I/O error"), "error note"),
        (_outputs("q", "an answer", conversation=None), "no conversation id"),
        ([[], "", None, ""], "no user message"),
        ("not a tuple", "unexpected outputs"),
    ],
)
def test_a_bad_reply_is_an_error(outputs: Any, expected: str) -> None:
    problem, _, _ = load.read_reply(outputs, "q")
    assert problem is not None and expected in problem


def test_the_messages_cover_every_skill_in_both_languages() -> None:
    def lang(text: str) -> str:
        return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"

    routes = {(load.MESSAGE_SKILLS[m], lang(m)) for m in load.MESSAGES}
    skills = {"ask", "objection", "explain", "risks", "plan", "fit", "card"}
    assert routes == {(s, code) for s in skills for code in ("zh", "en")}


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (load.percentile(values, 50), load.percentile(values, 95), load.percentile(values, 100)) == (50, 95, 100)
    assert load.percentile([3.0], 95) == 3.0 and load.percentile([], 50) == 0.0


@pytest.fixture(scope="module")
def bench_home(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings, _ = clone_shipped_index(shipped_index, tmp_path_factory.mktemp("load-bench"))
    return Path(settings.home)


def _bench(*args: str) -> list[str]:
    return [sys.executable, str(BENCH), *args]


def _gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_short_run_with_two_sessions_reports_sane_figures(bench_home: Path, tmp_path: Path, workers: int) -> None:
    out = tmp_path / "load.json"
    options = ("--sessions", "2", "--duration", "4", "--timeout", "120", "--workers", str(workers))
    done = subprocess.run(
        _bench("--home", str(bench_home), *options, "--json", str(out)),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["requests"] > 0 and figures["errors"] == 0, figures["error_kinds"]
    assert sum(f["requests"] for f in figures["per_skill"].values()) == figures["requests"]
    lat = figures["latency"]
    assert 0 < lat["p50_s"] <= lat["p95_s"] <= lat["p99_s"] <= lat["max_s"] < 120  # correct; speed is the bench's job
    assert figures["requests_per_s"] > 0 and figures["wall_s"] >= 4
    memory = figures["memory"]
    assert 100 * 2**20 < memory["app_peak_bytes"] < 8 * 2**30  # the app holds the index and the encoder
    assert memory["app_idle_rss_bytes"] <= memory["app_peak_bytes"] and memory["driver_peak_bytes"] > 0
    assert figures["machine"]["cores"] >= 1 and figures["app_cpu_s"] > 0
    table = done.stdout
    assert "| sessions | requests | errors | requests/s | p50 | p95 | p99 | max |" in table
    assert f"| 2 | {figures['requests']} | 0 |" in table
    assert figures["workers"] == workers and len(figures["app_pids"]) == workers
    assert memory["app_processes"] >= workers and f"App: {workers} worker(s)" in table
    assert all(_gone(pid) for pid in figures["app_pids"]), "an app process was left running"
