"""Export a meeting brief as Markdown, JSON or .docx, written atomically.

A file is written to a temporary name beside the target, flushed to disk and
renamed into place, so a crash mid-write (even `kill -9` or a power cut) leaves
either the old file or the new one under the real name, never half of one.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from copilot.results import BriefResult

Format = Literal["md", "docx", "json"]
FORMATS: tuple[Format, ...] = ("md", "docx", "json")


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


_LABELS = {
    "zh": {
        "risk": "风险",
        "category": "类别",
        "li": "可能性×影响",
        "owner": "责任方",
        "mitigation": "缓解措施",
        "phase": "阶段",
        "months": "月份",
        "kpi": "KPI（目标 单位）",
        "buyer": "买方任务",
        "vendor": "供应商任务",
    },
    "en": {
        "risk": "Risk",
        "category": "Category",
        "li": "Likelihood×impact",
        "owner": "Owner",
        "mitigation": "Mitigation",
        "phase": "Phase",
        "months": "Months",
        "kpi": "KPIs (target unit)",
        "buyer": "Buyer tasks",
        "vendor": "Vendor tasks",
    },
}


def _write_docx(brief: BriefResult, path: Path, images: Sequence[Path] = ()) -> None:
    from docx import Document as DocxDocument
    from docx.shared import Cm

    doc = DocxDocument()
    labels = _LABELS[brief.language]
    in_risks = in_plan = False
    risk_heading = {"zh": "风险清单", "en": "Risk checklist"}[brief.language]
    plan_heading = {"zh": "里程碑计划", "en": "Milestone plan"}[brief.language]
    for line in brief.text.splitlines():
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
        elif stripped.startswith("|"):
            doc.add_paragraph(stripped)
        else:
            doc.add_paragraph(stripped)
    doc.save(str(path))


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


def export_brief(brief: BriefResult, fmt: Format, path: Path, images: Sequence[Path] = ()) -> Path:
    """Write the brief as `fmt`; a .docx gets `images` (the risk heat map, then the milestone chart) after
    their tables."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "docx":
        return write_atomic(path, lambda tmp: _write_docx(brief, tmp, images))
    content = brief_to_markdown(brief) if fmt == "md" else brief_to_json(brief)

    def write_text(tmp: Path) -> None:
        tmp.write_text(content, encoding="utf-8")

    return write_atomic(path, write_text)
