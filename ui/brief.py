"""The meeting-brief tab: "Generate" on top, a deal (form or file) in; the brief, its two charts and four
downloads out (Markdown, Word with the charts, JSON, the prep card as PDF). An empty form asks for the
minimum (scenario and one pain) instead of producing a generic brief; a too-long item is cut with a notice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr

from copilot.deal import Deal, DealError, load_deal
from copilot.export import FORMATS, export_brief
from copilot.export_pdf import PdfError, export_card_pdf, html_to_png
from copilot.knowledge import KnowledgeError
from copilot.results import BriefResult, Notice
from copilot.skills.brief import appendices
from copilot.skills.card import render_card
from copilot.skills.notes import rep_notes_block
from copilot.wording import Wording
from ui.charts import milestone_gantt, risk_heatmap
from ui.context import AppContext
from ui.deal_form import DealForm, deal_form, form_values, read_form, values_from_deal
from ui.labels import Labels, ui_text
from ui.render import notices_md, safe_md

DEFAULT_HORIZON = 12


def export_name(customer: str) -> str:
    """A file name stem from the customer's name (letters of any script, digits, '-')."""
    stem = re.sub(r"[^\w-]+", "-", customer, flags=re.UNICODE).strip("-_")[:40]
    return f"brief-{stem}" if stem else "brief"


def load_deal_file(path: str | None, lang: str = "en") -> tuple[str, Deal | None]:
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
        return ui_text(lang, "brief.file_problem") + "\n\n```text\n" + message + "\n```", None
    return ui_text(lang, "brief.file_loaded", name=safe_md(name)), deal


def brief_parts(brief: BriefResult) -> tuple[str, str, str]:
    """(card, rep notes box, appendices) as Markdown: the card first, the rep's notes apart, the rest collapsed."""
    if brief.card is None:
        return "", "", brief.text
    card = render_card(brief.card, brief.language, brief.customer, notes=False)
    heading = Wording("card", brief.language)("heading.rep_notes")
    notes = rep_notes_block(brief.card.rep_notes, heading) if brief.card.rep_notes else ""
    body = "\n\n".join(f"## {title}\n{text}" for title, text in appendices(brief))
    return card, notes, body


def brief_outputs(ctx: AppContext, brief: BriefResult, notices: list[Notice] | None = None) -> tuple[Any, ...]:
    """The card, the rep's notes, the appendices (Markdown), the two figures, the three download paths (md,
    docx, json), notices, and the brief (kept for the printed exports, `printed_exports`, which follow)."""
    folder = ctx.new_files_dir()
    stem = export_name(brief.customer)
    paths = [str(export_brief(brief, fmt, folder / f"{stem}.{fmt}")) for fmt in FORMATS]
    card, rep_notes, body = brief_parts(brief)
    return (
        safe_md(card),
        safe_md(rep_notes),
        safe_md(body),
        risk_heatmap(brief.risks),
        milestone_gantt(brief.plan),
        *[gr.DownloadButton(value=p, interactive=True) for p in paths],
        notices_md([*(notices or []), *brief.notices]),
        brief,
    )


def printed_exports(ctx: AppContext, brief: BriefResult | None) -> tuple[Any, ...]:
    """The .docx again, now with both charts as pictures, and the prep card as PDF (chromium prints both).

    Without chromium the first .docx (tables, no pictures) stays and the PDF button says why it is off.
    """
    if brief is None:
        return gr.skip(), gr.skip(), gr.skip()
    folder = ctx.new_files_dir()
    stem = export_name(brief.customer)
    try:
        images = [
            html_to_png(risk_heatmap(brief.risks).to_html(include_plotlyjs=True), folder / "risk-heatmap.png"),
            html_to_png(
                milestone_gantt(brief.plan).to_html(include_plotlyjs=True), folder / "milestones.png", height=380
            ),
        ]
        docx = export_brief(brief, "docx", folder / f"{stem}.docx", images)
        pdf = export_card_pdf(brief, folder / f"{stem}-card.pdf")
    except PdfError as exc:
        return gr.skip(), gr.DownloadButton(interactive=False), "ℹ " + safe_md(str(exc))
    return (
        gr.DownloadButton(value=str(docx), interactive=True),
        gr.DownloadButton(value=str(pdf), interactive=True),
        gr.skip(),
    )


def build_brief_tab(ctx: AppContext, chat_form: DealForm, labels: Labels) -> None:
    t = labels.t
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            generate = labels.reg(
                gr.Button(t("brief.generate"), variant="primary", elem_id="brief-generate"), value="brief.generate"
            )
            deal_file = labels.reg(
                gr.File(
                    label=t("brief.file"),
                    file_types=[".yaml", ".yml", ".json"],
                    type="filepath",
                    elem_id="brief-deal-file",
                    height=90,
                ),
                label="brief.file",
            )
            copy_btn = labels.reg(gr.Button(t("brief.copy"), size="sm"), value="brief.copy")
            form = deal_form("brief", labels)
            horizon = labels.reg(
                gr.Slider(3, 60, value=DEFAULT_HORIZON, step=1, label=t("brief.horizon")), label="brief.horizon"
            )
        with gr.Column(scale=3, min_width=320):
            notices = gr.Markdown("", elem_id="brief-notices")
            with gr.Row():
                download_md = gr.DownloadButton("Markdown (.md)", interactive=False, elem_id="download-md")
                download_docx = gr.DownloadButton("Word (.docx)", interactive=False, elem_id="download-docx")
                download_json = gr.DownloadButton("JSON (.json)", interactive=False, elem_id="download-json")
                download_pdf = labels.reg(
                    gr.DownloadButton(t("brief.pdf"), interactive=False, elem_id="download-pdf"), label="brief.pdf"
                )
            card_md = labels.reg(gr.Markdown(t("brief.placeholder"), elem_id="brief-card"), value="brief.placeholder")
            rep_notes = gr.Markdown("", elem_id="brief-rep-notes", elem_classes=["rep-notes"])
            heatmap = labels.reg(gr.Plot(label=t("brief.heatmap"), elem_id="risk-heatmap"), label="brief.heatmap")
            gantt = labels.reg(gr.Plot(label=t("brief.gantt"), elem_id="milestone-gantt"), label="brief.gantt")
            with labels.reg(
                gr.Accordion(t("brief.appendices"), open=False, elem_id="brief-appendices"), label="brief.appendices"
            ):
                brief_md = gr.Markdown("", elem_id="brief-text", max_height=900)

    inputs = form.components()
    kept = gr.State(None)

    def load_file(path: str | None) -> tuple[Any, ...]:
        notice, deal = load_deal_file(path, labels.lang)
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
        constraints: str,
        horizon_months: float,
    ) -> tuple[Any, ...]:
        values = form_values(
            customer,
            industry,
            scenario,
            region,
            language,
            audience,
            pains,
            goals,
            systems,
            budget,
            timeline,
            stage,
            constraints,
        )
        lang = language if language in ("zh", "en") else labels.lang
        if not (pains or "").strip():  # an empty form asks for the minimum instead of a generic brief
            return (*[gr.skip()] * 8, ui_text(lang, "brief.empty"), None)
        try:
            reading = read_form(values, ui_lang=lang)
            result = ctx.copilot.brief(reading.deal, horizon_months=int(horizon_months))
        except (DealError, KnowledgeError) as exc:
            return (*[gr.skip()] * 8, ui_text(lang, "brief.deal_problem") + " " + safe_md(str(exc)), None)
        return brief_outputs(ctx, result, reading.notices)

    def printed(result: BriefResult | None) -> tuple[Any, ...]:
        return printed_exports(ctx, result)

    generate.click(
        brief,
        [*inputs, horizon],
        [card_md, rep_notes, brief_md, heatmap, gantt, download_md, download_docx, download_json, notices, kept],
        api_name="brief",
        concurrency_id="copilot",
    ).then(printed, [kept], [download_docx, download_pdf, notices], api_name="brief_printed", concurrency_id="copilot")
