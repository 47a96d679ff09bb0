"""The meeting-brief tab: a deal (form or file) in, the brief, its two charts and three downloads out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr

from copilot.deal import Deal, DealError, load_deal
from copilot.export import FORMATS, export_brief
from copilot.knowledge import KnowledgeError
from copilot.results import BriefResult
from copilot.skills.brief import appendices
from copilot.skills.card import render_card
from copilot.skills.notes import rep_notes_block
from copilot.wording import Wording
from ui.charts import milestone_gantt, risk_heatmap
from ui.context import AppContext
from ui.deal_form import DealForm, deal_form, deal_from_values, form_values, values_from_deal
from ui.render import notices_md, safe_md

DEFAULT_HORIZON = 12


def export_name(customer: str) -> str:
    """A file name stem from the customer's name (letters of any script, digits, '-')."""
    stem = re.sub(r"[^\w-]+", "-", customer, flags=re.UNICODE).strip("-_")[:40]
    return f"brief-{stem}" if stem else "brief"


def load_deal_file(path: str | None) -> tuple[str, Deal | None]:
    """An uploaded deal file: (notice, deal), the deal None with the problems in the notice.

    Messages name the file by its own name, not the server's upload folder.
    """
    if not path:
        return "", None
    name = Path(path).name
    try:
        deal = load_deal(Path(path))
    except DealError as exc:
        message = str(exc).replace(str(path), name)
        return "⚠ 交易文件有误 / The deal file has problems:\n\n```text\n" + message + "\n```", None
    return f"已载入 / Loaded {safe_md(name)}", deal


def brief_parts(brief: BriefResult) -> tuple[str, str, str]:
    """(card, rep notes box, appendices) as Markdown: the card first, the rep's notes apart, the rest collapsed."""
    if brief.card is None:
        return "", "", brief.text
    card = render_card(brief.card, brief.language, brief.customer, notes=False)
    heading = Wording("card", brief.language)("heading.rep_notes")
    notes = rep_notes_block(brief.card.rep_notes, heading) if brief.card.rep_notes else ""
    body = "\n\n".join(f"## {title}\n{text}" for title, text in appendices(brief))
    return card, notes, body


def brief_outputs(ctx: AppContext, brief: BriefResult) -> tuple[Any, ...]:
    """Card, rep notes, appendices, the two figures and the three download paths of a brief."""
    folder = ctx.new_files_dir()
    stem = export_name(brief.customer)
    paths = [str(export_brief(brief, fmt, folder / f"{stem}.{fmt}")) for fmt in FORMATS]
    card, notes, body = brief_parts(brief)
    return (
        safe_md(card),
        safe_md(notes),
        safe_md(body),
        risk_heatmap(brief.risks),
        milestone_gantt(brief.plan),
        *[gr.DownloadButton(value=p, interactive=True) for p in paths],
        notices_md(brief.notices),
    )


def build_brief_tab(ctx: AppContext, chat_form: DealForm) -> None:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            deal_file = gr.File(
                label="交易文件 Deal file (.yaml / .json)",
                file_types=[".yaml", ".yml", ".json"],
                type="filepath",
                elem_id="brief-deal-file",
            )
            copy_btn = gr.Button("使用对话中的交易 Use the chat's deal", size="sm")
            form = deal_form("brief")
            horizon = gr.Slider(3, 60, value=DEFAULT_HORIZON, step=1, label="计划周期（月）Plan horizon (months)")
            generate = gr.Button("生成简报 Generate brief", variant="primary", elem_id="brief-generate")
        with gr.Column(scale=3, min_width=480):
            notices = gr.Markdown("", elem_id="brief-notices")
            with gr.Row():
                download_md = gr.DownloadButton("Markdown (.md)", interactive=False, elem_id="download-md")
                download_docx = gr.DownloadButton("Word (.docx)", interactive=False, elem_id="download-docx")
                download_json = gr.DownloadButton("JSON (.json)", interactive=False, elem_id="download-json")
            card_md = gr.Markdown("生成的准备卡会显示在这里 / The prep card appears here.", elem_id="brief-card")
            rep_notes = gr.Markdown("", elem_id="brief-rep-notes", elem_classes=["rep-notes"])
            heatmap = gr.Plot(label="风险热力图 Risk heat map", elem_id="risk-heatmap")
            gantt = gr.Plot(label="里程碑 Milestones", elem_id="milestone-gantt")
            with gr.Accordion("附录 Appendices", open=False, elem_id="brief-appendices"):
                brief_md = gr.Markdown("", elem_id="brief-text", max_height=900)

    inputs = form.components()

    def load_file(path: str | None) -> tuple[Any, ...]:
        notice, deal = load_deal_file(path)
        return notice, *values_from_deal(deal)

    deal_file.upload(load_file, [deal_file], [notices, *inputs], api_name="load_deal_file")
    copy_btn.click(lambda *values: values, chat_form.components(), inputs, api_visibility="private")

    def brief(
        customer: str,
        industry: str,
        scenario: str,
        region: str,
        language: str,
        audience: str,
        pains: str,
        goals: str,
        systems: str,
        budget: str,
        timeline: str,
        stage: str,
        horizon_months: float,
    ) -> tuple[Any, ...]:
        values = form_values(
            customer, industry, scenario, region, language, audience, pains, goals, systems, budget, timeline, stage
        )
        try:
            deal = deal_from_values(values)
            result = ctx.copilot.brief(deal, horizon_months=int(horizon_months))
        except (DealError, KnowledgeError) as exc:
            return (*[gr.skip()] * 8, "⚠ " + safe_md(str(exc)))
        return brief_outputs(ctx, result)

    generate.click(
        brief,
        [*inputs, horizon],
        [card_md, rep_notes, brief_md, heatmap, gantt, download_md, download_docx, download_json, notices],
        api_name="brief",
        concurrency_id="copilot",
    )
