"""Print with the system's chromium (headless, offline flags): the prep card as PDF, a chart as PNG.

Debian's chromium is what the browser tests already use (never a downloaded browser); it renders
Chinese with the system's CJK font (fonts-wqy-microhei, see the Makefile's `browser` target). No
chromium: a PdfError saying how to install it, and every other export still works.

The card is the brief's first page: the result's `card` when the brief has one, else the opening,
three talking points, the top three risks with one mitigation each, three discovery questions and
the next steps. Headings come from prompts/offline/<lang>/card_pdf.yaml; every other word is the
brief's own, escaped.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from copilot.results import BriefResult
from copilot.wording import Wording

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 90
CARD_ITEMS = 3
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
CSS = """
body { font-family: 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif; font-size: 11pt; margin: 18mm; }
h1 { font-size: 17pt; margin: 0 0 8pt; } h2 { font-size: 12.5pt; margin: 12pt 0 4pt; color: #4c78a8; }
ul { margin: 0; padding-left: 16pt; } li { margin: 2pt 0; } p { margin: 2pt 0; }
"""


class PdfError(RuntimeError):
    """Printing is not possible here (no chromium) or failed; the message says what to do."""


def browser() -> str:
    found = os.environ.get("NEGO_CHROMIUM") or next((p for p in map(shutil.which, BROWSERS) if p), None)
    if not found:
        raise PdfError("PDF export needs chromium: apt-get install chromium fonts-wqy-microhei (or set NEGO_CHROMIUM)")
    return found


def _run(args: list[str], target: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="nego-print-") as profile:
        try:
            done = subprocess.run(
                [browser(), *FLAGS, f"--user-data-dir={profile}", *args],
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"chromium could not print: {exc}") from exc
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        raise PdfError(
            f"chromium could not print (exit {done.returncode}): {done.stderr.decode(errors='replace')[-300:]}"
        )
    return target


def _items(title: str, items: list[str]) -> str:
    if not items:
        return ""
    lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    return f"<h2>{html.escape(title)}</h2><ul>{lis}</ul>"


def card_sections(brief: BriefResult) -> tuple[str, list[tuple[str, list[str]]]]:
    """(title, [(heading, items)]) of the one-page card."""
    w = Wording("card_pdf", brief.language)
    card: Any = getattr(brief, "card", None)
    title = w("title", customer=brief.customer)
    if card is not None:
        highlights = [f"{h.point} ({h.proof})" if getattr(h, "proof", "") else h.point for h in card.highlights]
        risks = [str(getattr(r, "risk", r)) for r in card.top_risks]
        return title, [
            (w("goal"), [card.goal]),
            (w("highlights"), highlights),
            (w("risks"), risks),
            (w("questions"), [str(q) for q in card.questions]),
            (w("next"), [card.next_step]),
        ]
    risks = [f"{r.risk}: {r.mitigations[0]}" if r.mitigations else r.risk for r in brief.risks.items[:CARD_ITEMS]]
    return title, [
        (w("opening"), [brief.opening]),
        (w("highlights"), [p.point for p in brief.talking_points[:CARD_ITEMS]]),
        (w("risks"), risks),
        (w("questions"), brief.discovery_questions[:CARD_ITEMS]),
        (w("next"), brief.next_steps[:CARD_ITEMS]),
    ]


def card_html(brief: BriefResult) -> str:
    title, sections = card_sections(brief)
    body = "".join(_items(heading, [i for i in items if i]) for heading, items in sections)
    lang = "zh-CN" if brief.language == "zh" else "en"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def export_card_pdf(brief: BriefResult, path: Path) -> Path:
    """The prep card of `brief` as a one-page PDF at `path`."""
    with tempfile.TemporaryDirectory(prefix="nego-card-") as tmp:
        page = Path(tmp) / "card.html"
        page.write_text(card_html(brief), encoding="utf-8")
        out = Path(tmp) / "card.pdf"
        _run(["--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri()], out)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), path)
    return path


def html_to_png(page_html: str, path: Path, width: int = 1000, height: int = 560) -> Path:
    """A page (e.g. a plotly figure's self-contained HTML) rendered to a PNG at `path`."""
    with tempfile.TemporaryDirectory(prefix="nego-shot-") as tmp:
        page = Path(tmp) / "figure.html"
        page.write_text(page_html, encoding="utf-8")
        out = Path(tmp) / "figure.png"
        args = [f"--window-size={width},{height}", "--hide-scrollbars", "--virtual-time-budget=8000"]
        _run([*args, f"--screenshot={out}", page.as_uri()], out)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), path)
    return path
