"""Export a meeting brief as Markdown, JSON or .docx, written atomically.

A file is written to a temporary name beside the target and renamed into place,
so a crash mid-write never leaves a half-written brief under the real name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from copilot.results import BriefResult

Format = Literal["md", "docx", "json"]
FORMATS: tuple[Format, ...] = ("md", "docx", "json")


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temp file in `path`'s folder, then rename it to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


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


def _write_docx(brief: BriefResult, path: Path) -> None:
    from docx import Document as DocxDocument

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
            elif in_plan:
                _plan_table(doc, brief, labels)
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


def export_brief(brief: BriefResult, fmt: Format, path: Path) -> Path:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "docx":
        return write_atomic(path, lambda tmp: _write_docx(brief, tmp))
    content = brief_to_markdown(brief) if fmt == "md" else brief_to_json(brief)

    def write_text(tmp: Path) -> None:
        tmp.write_text(content, encoding="utf-8")

    return write_atomic(path, write_text)
