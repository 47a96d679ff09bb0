"""Export a meeting brief as Markdown, JSON or .docx, written atomically.

A file is written to a temporary name beside the target, flushed to disk and
renamed into place, so a crash mid-write (even `kill -9` or a power cut) leaves
either the old file or the new one under the real name, never half of one.
"""

from __future__ import annotations

import glob
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from copilot.results import BriefResult
from copilot.skills.notes import REP_MARK
from copilot.wording import Wording

Format = Literal["md", "docx", "json"]
FORMATS: tuple[Format, ...] = ("md", "docx", "json")


REP_BOX_FILL = "FFF2CC"
"""The shading of the rep-notes box in .docx exports (light amber)."""
STALE_TMP_SECONDS = 3600
"""A temporary file this old beside the target was left by a writer that was killed: it is removed."""


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temp file in `path`'s folder, then rename it to `path`.

    The temp file is fsynced before the rename (and the folder after it), so the rename
    never publishes data still in flight. The file gets the target's current permissions,
    or the usual ones for a new file (mkstemp's 0600 would hide an export from the group).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it (os.umask can only be read by setting it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform: the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(path: Path) -> None:
    """Temp files of earlier writes to `path` that were killed before their rename, if old enough."""
    now = time.time()
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                tmp.unlink()
        except OSError:
            continue


def brief_to_markdown(brief: BriefResult) -> str:
    return brief.text


def brief_to_json(brief: BriefResult) -> str:
    return brief.model_dump_json(indent=2)


def card_to_markdown(brief: BriefResult) -> str:
    """The prep card alone, with the rep's notes in their own marked box."""
    from copilot.skills.brief import card_markdown

    return card_markdown(brief) or brief.text


def card_to_json(brief: BriefResult) -> str:
    card = brief.card.model_dump(mode="json") if brief.card is not None else None
    return json.dumps(
        {"customer": brief.customer, "language": brief.language, "card": card}, ensure_ascii=False, indent=2
    )


def _labels(lang: str) -> dict[str, str]:
    w = Wording("export", lang)
    keys = ("risk", "category", "li", "owner", "mitigation", "phase", "months", "kpi", "buyer", "vendor")
    return {k: w(k) for k in keys}


def _write_docx(brief: BriefResult, path: Path, card_only: bool = False, images: Sequence[Path] = ()) -> None:
    """The card on page 1 (the rep's notes in their own shaded box), the appendices from page 2."""
    from docx import Document as DocxDocument
    from docx.enum.text import WD_BREAK

    doc = DocxDocument()
    labels = _labels(brief.language)
    lines = brief.text.splitlines()
    if brief.card is not None:
        bw = Wording("brief", brief.language)
        sep = "：" if brief.language == "zh" else ": "
        doc.add_heading(f"{bw('heading.title')}{sep}{brief.customer}", level=0)
        _card(doc, brief)
        if card_only:
            doc.save(str(path))
            return
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        marker = f"# {bw('heading.appendix')}"
        start = next((i for i, line in enumerate(lines) if line.strip() == marker), 0)
        lines = lines[start:]
    _markdown(doc, brief, lines, labels, images)
    doc.save(str(path))


def _card(doc: Any, brief: BriefResult) -> None:
    card = brief.card
    assert card is not None
    w = Wording("card", brief.language)
    sep = "：" if brief.language == "zh" else ": "
    doc.add_heading(f"{w('heading.card')}{sep}{brief.customer}", level=1)
    doc.add_heading(w("heading.goal"), level=2)
    doc.add_paragraph(card.goal)
    if card.fit_line:
        doc.add_heading(w("heading.fit"), level=2)
        doc.add_paragraph(card.fit_line)
    if card.highlights:
        doc.add_heading(w("heading.highlights"), level=2)
        for item in card.highlights:
            doc.add_paragraph(item.point, style="List Number")
            doc.add_paragraph(f"{w('heading.proof')}{sep}{item.proof}", style="List Bullet 2")
    if card.top_risks:
        doc.add_heading(w("heading.risks"), level=2)
        for r in card.top_risks:
            doc.add_paragraph(w("risk_line", risk=r.risk, mitigation=r.mitigation), style="List Bullet")
    if card.questions:
        doc.add_heading(w("heading.questions"), level=2)
        for q in card.questions:
            doc.add_paragraph(q, style="List Bullet")
    doc.add_heading(w("heading.next_step"), level=2)
    doc.add_paragraph(card.next_step)
    if card.rep_notes:
        rep_notes_box(doc, f"{REP_MARK} {w('heading.rep_notes')}", card.rep_notes)


def rep_notes_box(doc: Any, heading: str, notes: list[str]) -> None:
    """The rep's notes in a one-cell shaded table: visibly apart from what the buyer may read."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = doc.add_table(rows=1, cols=1)
    table.style = "Table Grid"
    cell = table.rows[0].cells[0]
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), REP_BOX_FILL)
    cell._tc.get_or_add_tcPr().append(shading)
    cell.paragraphs[0].add_run(heading).bold = True
    for note in notes:
        cell.add_paragraph(f"• {note}")


def _markdown(
    doc: Any, brief: BriefResult, lines: list[str], labels: dict[str, str], images: Sequence[Path] = ()
) -> None:
    """The brief's Markdown lines as .docx; the risks and the plan as tables, each followed by its chart."""
    from docx.shared import Cm

    bw = Wording("brief", brief.language)
    risk_heading, plan_heading = bw("heading.risks"), bw("heading.plan")
    in_risks = in_plan = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            title = stripped.lstrip("#").strip()
            in_risks, in_plan = title == risk_heading, title == plan_heading
            doc.add_heading(title, level=min(level, 4) if level > 1 else 0)
            if in_risks:
                _risk_table(doc, brief, labels)
                if len(images) > 0:
                    doc.add_picture(str(images[0]), width=Cm(16))  # the risk heat map
            elif in_plan:
                _plan_table(doc, brief, labels)
                if len(images) > 1:
                    doc.add_picture(str(images[1]), width=Cm(16))  # the milestone chart
            continue
        if in_risks or in_plan:
            continue  # rendered as a table instead
        if stripped.startswith(("- ", "* ")):
            doc.add_paragraph(stripped[2:], style="List Bullet")
        else:
            doc.add_paragraph(stripped)


def _risk_table(doc: object, brief: BriefResult, labels: dict[str, str]) -> None:
    items = brief.risks.items
    table = doc.add_table(rows=1, cols=5)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells,
        [labels["risk"], labels["category"], labels["li"], labels["owner"], labels["mitigation"]],
        strict=True,
    ):
        cell.text = text
    for item in items:
        row = table.add_row().cells
        row[0].text = item.risk
        row[1].text = item.category_label
        row[2].text = f"{item.likelihood}×{item.impact}"
        row[3].text = item.owner
        row[4].text = "\n".join(item.mitigations)


def _plan_table(doc: object, brief: BriefResult, labels: dict[str, str]) -> None:
    table = doc.add_table(rows=1, cols=5)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    headers = [labels["phase"], labels["months"], labels["kpi"], labels["buyer"], labels["vendor"]]
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for phase in brief.plan.phases:
        row = table.add_row().cells
        row[0].text = phase.name
        row[1].text = f"{phase.start_month}–{phase.end_month}"
        row[2].text = "\n".join(f"{k.name}: {k.target} {k.unit}" for k in phase.kpis)
        row[3].text = "\n".join(phase.buyer_tasks)
        row[4].text = "\n".join(phase.vendor_tasks)


def export_brief(
    brief: BriefResult, fmt: Format, path: Path, images: Sequence[Path] = (), card_only: bool = False
) -> Path:
    """Write the brief (or, with `card_only`, its prep card alone) as `fmt` to `path`, atomically.

    A .docx gets `images` (the risk heat map, then the milestone chart) after their tables."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "docx":
        return write_atomic(path, lambda tmp: _write_docx(brief, tmp, card_only, images))
    if card_only:
        content = card_to_markdown(brief) if fmt == "md" else card_to_json(brief)
    else:
        content = brief_to_markdown(brief) if fmt == "md" else brief_to_json(brief)

    def write_text(tmp: Path) -> None:
        tmp.write_text(content, encoding="utf-8")

    return write_atomic(path, write_text)
