"""The deal panel's health check: a button under the chat's deal form and the scorecard it shows."""

from __future__ import annotations

from typing import Any

import gradio as gr

from copilot.deal import DealError
from copilot.skills.health import render_health
from ui.context import AppContext
from ui.deal_form import DealForm, deal_from_values, form_values
from ui.labels import Labels
from ui.render import safe_md


def add_health_panel(ctx: AppContext, form: DealForm, labels: Labels) -> None:
    button = labels.reg(
        gr.Button(labels.t("health.check"), size="sm", elem_id="deal-health-check"), value="health.check"
    )
    shown = gr.Markdown("", elem_id="deal-health")

    def check(*values: Any) -> str:
        try:
            deal = deal_from_values(form_values(*values))
            return safe_md(render_health(ctx.copilot.health(deal), level=4))
        except DealError as exc:
            return "⚠ " + safe_md(str(exc))

    button.click(check, form.components(), [shown], api_name="deal_health", concurrency_id="copilot")
