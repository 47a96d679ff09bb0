"""The Recap tab: notes in; recap, deal diff and follow-up email out; confirm to save a new deal version."""

from __future__ import annotations

from typing import Any

import gradio as gr

from copilot.deal import DealError
from copilot.recap.versions import DealVersions, VersionError
from ui.context import AppContext
from ui.meeting_support import deal_from_yaml, deal_yaml, example_deal_yaml, problem_md
from ui.render import notices_md, safe_md

EXAMPLE_NOTES = """参会：质量总监刘敏、信息部经理赵磊；我方：我、售前小吴
1. 刘总监说十几家牧场还在用Excel报数。
2. 预算：赵经理说今年预算可能能到500万，但要等CFO拍板。
3. 双方同意先选两个牧场加一个工厂做试点。
待办：我方下周三前提交试点方案和报价；赵经理本周内提供ERP接口文档。
下次：3月26日下午去工厂现场看产线。
"""


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


def save_version(ctx: AppContext, result: Any, deal_text: str, notes: str) -> tuple[str, str, str]:
    if result is None:
        return deal_text, "⚠ 先生成纪要 / Run the recap first", ""
    versions = DealVersions(ctx.settings.home_dir)
    if not versions.list(result.customer):
        versions.save(result.customer, deal_from_yaml(deal_text).model_dump(mode="json", exclude_none=True), "original")
    saved = versions.save(result.customer, result.updated_deal, "recap (UI)", notes)
    message = f"✔ 已保存为第 {saved.version} 版 / Saved as version {saved.version}"
    return deal_yaml(result.updated_deal), message, _versions_md(ctx, result.customer)


def restore_version(ctx: AppContext, deal_text: str, version: float | None) -> tuple[str, str, str]:
    try:
        customer = deal_from_yaml(deal_text).who()
        record = DealVersions(ctx.settings.home_dir).restore(customer, int(version or 0))
    except (DealError, VersionError) as exc:
        return deal_text, problem_md(str(exc)), ""
    message = f"✔ v{int(version or 0)} → v{record.version}"
    return deal_yaml(record.deal), message, _versions_md(ctx, customer)


def build_recap_tab(ctx: AppContext) -> gr.Textbox:
    """The tab's components and events; returns the notes box (the chat sends long pasted notes there)."""
    result = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            deal_text = gr.Code(example_deal_yaml(), language="yaml", label="交易 Deal (YAML)", elem_id="recap-deal")
            notes = gr.Textbox(
                EXAMPLE_NOTES,
                label="会议笔记或导出的纪要 Notes or exported minutes (飞书妙记/钉钉/Teams/Zoom, Markdown)",
                lines=12,
                elem_id="recap-notes",
            )
            go = gr.Button("生成纪要 Recap", variant="primary", elem_id="recap-run")
            confirm = gr.Button(
                "确认并保存新版本 Confirm: save the new deal version", interactive=False, elem_id="recap-save"
            )
            saved = gr.Markdown("", elem_id="recap-saved")
            with gr.Row():
                version = gr.Number(label="版本 Version", precision=0, minimum=1, elem_id="recap-version")
                restore = gr.Button("恢复 Restore", elem_id="recap-restore")
            versions = gr.Markdown("", elem_id="recap-versions")
        with gr.Column(scale=2, min_width=480):
            notices = gr.Markdown("", elem_id="recap-notices")
            email = gr.Textbox(label="跟进邮件 Follow-up email", lines=10, buttons=["copy"], elem_id="recap-email")
            text = gr.Markdown("", elem_id="recap-text")
    go.click(
        lambda d, n: run_recap(ctx, d, n), [deal_text, notes], [result, text, email, notices, confirm], api_name="recap"
    )
    confirm.click(
        lambda r, d, n: save_version(ctx, r, d, n),
        [result, deal_text, notes],
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
