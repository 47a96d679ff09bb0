"""The Recap tab: notes in; recap, deal diff and follow-up email out; confirm to save a new deal version."""

from __future__ import annotations

from typing import Any

import gradio as gr

from copilot.deal import DealError
from copilot.recap.versions import DealVersions, VersionError
from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.meeting_support import deal_from_yaml, deal_yaml, example_deal_yaml, problem_md
from ui.render import notices_md, safe_md


def _versions_md(ctx: AppContext, customer: str) -> str:
    rows = DealVersions(ctx.settings.home_dir).list(customer)
    return "\n".join(f"- v{r.version} · {r.created} · {safe_md(r.source)}" for r in rows) or "-"


def run_recap(ctx: AppContext, deal_text: str, notes: str) -> tuple[Any, ...]:
    try:
        deal = deal_from_yaml(deal_text)
        result = ctx.copilot.recap(deal, notes)
    except (DealError, ValueError) as exc:
        return None, problem_md(str(exc)), "", "", gr.Button(interactive=False)
    return result, safe_md(result.text), result.email, notices_md(result.notices), gr.Button(interactive=True)


def save_version(ctx: AppContext, result: Any, deal_text: str, notes: str, lang: str) -> tuple[str, str, str]:
    if result is None:
        return deal_text, ui_text(lang, "recap.run_first"), ""
    versions = DealVersions(ctx.settings.home_dir)
    if not versions.list(result.customer):
        versions.save(result.customer, deal_from_yaml(deal_text).model_dump(mode="json", exclude_none=True), "original")
    saved = versions.save(result.customer, result.updated_deal, "recap (UI)", notes)
    message = ui_text(lang, "recap.saved", version=saved.version)
    return deal_yaml(result.updated_deal), message, _versions_md(ctx, result.customer)


def restore_version(ctx: AppContext, deal_text: str, version: float | None) -> tuple[str, str, str]:
    try:
        customer = deal_from_yaml(deal_text).who()
        record = DealVersions(ctx.settings.home_dir).restore(customer, int(version or 0))
    except (DealError, VersionError) as exc:
        return deal_text, problem_md(str(exc)), ""
    message = f"✔ v{int(version or 0)} → v{record.version}"
    return deal_yaml(record.deal), message, _versions_md(ctx, customer)


def build_recap_tab(ctx: AppContext, labels: Labels, ui_lang: gr.Radio) -> gr.Textbox:
    """The tab's components and events; returns the notes box (the chat sends long pasted notes there).

    The example notes are in the language the page starts in; switching the interface language relabels the
    boxes but never replaces what is in them (a rep's pasted notes stay)."""
    t, reg = labels.t, labels.reg
    result = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            deal_text = reg(
                gr.Code(example_deal_yaml(), language="yaml", label=t("recap.deal"), elem_id="recap-deal"),
                label="recap.deal",
            )
            notes = reg(
                gr.Textbox(t("recap.example_notes"), label=t("recap.notes"), lines=12, elem_id="recap-notes"),
                label="recap.notes",
            )
            go = reg(gr.Button(t("recap.run"), variant="primary", elem_id="recap-run"), value="recap.run")
            confirm = reg(gr.Button(t("recap.confirm"), interactive=False, elem_id="recap-save"), value="recap.confirm")
            saved = gr.Markdown("", elem_id="recap-saved")
            with gr.Row():
                version = reg(
                    gr.Number(label=t("recap.version"), precision=0, minimum=1, elem_id="recap-version"),
                    label="recap.version",
                )
                restore = reg(gr.Button(t("recap.restore"), elem_id="recap-restore"), value="recap.restore")
            versions = gr.Markdown("", elem_id="recap-versions")
        with gr.Column(scale=2, min_width=480):
            notices = gr.Markdown("", elem_id="recap-notices")
            email = reg(
                gr.Textbox(label=t("recap.email"), lines=10, buttons=["copy"], elem_id="recap-email"),
                label="recap.email",
            )
            text = gr.Markdown("", elem_id="recap-text")
    go.click(
        lambda d, n: run_recap(ctx, d, n), [deal_text, notes], [result, text, email, notices, confirm], api_name="recap"
    )
    confirm.click(
        lambda r, d, n, lang: save_version(ctx, r, d, n, lang),
        [result, deal_text, notes, ui_lang],
        [deal_text, saved, versions],
        api_name="recap_save",
    )
    restore.click(
        lambda d, v: restore_version(ctx, d, v),
        [deal_text, version],
        [deal_text, saved, versions],
        api_name="recap_restore",
    )
    return notes
