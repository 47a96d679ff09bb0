"""The negotiation tab: a deal with a `negotiation` section in (file or YAML), the plan out.

The offer ladder is shown as a table (issues × steps, the values in each issue's unit) and as a
chart: each issue's position at each step as the share of its range given away (0% = our target,
100% = the walk-away), so issues in different units sit on one axis; hovering shows the value.
Every number comes from the NegotiationResult; labels follow the plan's language.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import gradio as gr
import plotly.graph_objects as go

from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct
from copilot.deal import Deal, DealError, deal_from_data, read_deal_text
from copilot.knowledge import KnowledgeError
from copilot.skills.negotiate import fmt
from copilot.skills.negotiate_model import NegotiationResult
from copilot.wording import Wording
from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.render import notices_md, safe_md

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "deal-negotiation.yaml"
_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d", "#bab0ac")


def example_yaml() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def parse_deal(text: str) -> Deal:
    """A deal from YAML (or JSON) text; DealError names the line or field."""
    if not text.strip():
        raise DealError("deal: empty: paste a deal or upload a file")
    try:
        node = compose(text)
        data = None if node is None else construct(node)
    except YamlSyntaxError as exc:
        raise DealError(f"deal:{exc.line}: {exc.message}") from exc
    return deal_from_data(data, "deal")


def ladder_table(result: NegotiationResult) -> tuple[list[str], list[list[str]]]:
    """(header, rows): one row per issue, a column per step, values in the issue's unit."""
    w = Wording("negotiate", result.language)
    header = [w("table.issue"), w("table.unit"), w("table.walk_away"), w("table.opening")]
    header += [w("table.step", k=s.step) for s in result.ladder[1:]]
    rows = [
        [o.issue, o.unit, fmt(o.walk_away), *[fmt(s.values[o.issue]) for s in result.ladder]] for o in result.openings
    ]
    return header, rows


def ladder_chart(result: NegotiationResult) -> go.Figure:
    """Issues × steps: the share of each issue's target..walk-away range given at each step."""
    w = Wording("negotiate", result.language)
    steps = [w("table.opening")] + [w("table.step", k=s.step) for s in result.ladder[1:]]
    fig = go.Figure()
    for n, o in enumerate(result.openings):
        rng = abs(o.target - o.walk_away)
        shares = [100 * abs(s.values[o.issue] - o.value) / rng if rng else 0.0 for s in result.ladder]
        hover = [f"{html.escape(o.issue)}: {fmt(s.values[o.issue])} {html.escape(o.unit)}" for s in result.ladder]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=shares,
                mode="lines+markers",
                name=html.escape(o.issue),
                line={"color": _COLOURS[n % len(_COLOURS)]},
                hovertext=hover,
                hoverinfo="text",
            )
        )
    fig.add_hline(y=100, line={"color": "#c0392b", "dash": "dash"}, annotation_text=w("chart.walk"))
    fig.update_layout(
        title={"text": w("chart.title")},
        yaxis={"title": {"text": w("chart.y")}, "range": [-5, 110]},
        margin={"l": 50, "r": 10, "t": 50, "b": 45},
        height=380,
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def plan_outputs(result: NegotiationResult) -> tuple[Any, ...]:
    """Markdown, the ladder table, the chart and the notices of a plan."""
    if not result.has_negotiation:
        return safe_md(result.text), gr.Dataframe(value=[], headers=["-"]), None, notices_md(result.notices)
    header, rows = ladder_table(result)
    return (
        safe_md(result.text),
        gr.Dataframe(value=rows, headers=header),
        ladder_chart(result),
        notices_md(result.notices),
    )


def _languages(lang: str) -> list[tuple[str, str]]:
    return [(ui_text(lang, "negotiate.lang_auto"), "auto"), ("中文", "zh"), ("English", "en")]


def build_negotiate_tab(ctx: AppContext, labels: Labels) -> None:
    t, reg = labels.t, labels.reg
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            deal_file = reg(
                gr.File(
                    label=t("negotiate.file"),
                    file_types=[".yaml", ".yml", ".json"],
                    type="filepath",
                    elem_id="nego-deal-file",
                ),
                label="negotiate.file",
            )
            deal_text = reg(
                gr.Code(
                    value=example_yaml(), language="yaml", label=t("negotiate.deal"), lines=18, elem_id="nego-deal-text"
                ),
                label="negotiate.deal",
            )
            lang = reg(
                gr.Dropdown(_languages(labels.lang), value="auto", label=t("negotiate.language"), elem_id="nego-lang"),
                label="negotiate.language",
                choices=_languages,
            )
            generate = reg(
                gr.Button(t("negotiate.generate"), variant="primary", elem_id="nego-generate"),
                value="negotiate.generate",
            )
        with gr.Column(scale=3, min_width=480):
            notices = gr.Markdown("", elem_id="nego-notices")
            table = reg(
                gr.Dataframe(label=t("negotiate.ladder"), interactive=False, elem_id="nego-ladder"),
                label="negotiate.ladder",
            )
            chart = reg(gr.Plot(label=t("negotiate.chart"), elem_id="nego-chart"), label="negotiate.chart")
            plan_md = gr.Markdown(t("negotiate.placeholder"), elem_id="nego-plan", max_height=900)

    def load_file(path: str | None) -> tuple[Any, ...]:
        if not path:
            return gr.skip(), ""
        try:
            return read_deal_text(Path(path)), ""
        except DealError as exc:
            return gr.skip(), "⚠ " + safe_md(str(exc).replace(str(path), Path(path).name))

    deal_file.upload(load_file, [deal_file], [deal_text, notices], api_visibility="private")

    def plan(text: str, language: str) -> tuple[Any, ...]:
        try:
            deal = parse_deal(text)
            result = ctx.copilot.negotiate(deal, None if language == "auto" else language)
        except (DealError, KnowledgeError) as exc:
            return gr.skip(), gr.skip(), gr.skip(), "⚠ " + safe_md(str(exc))
        return plan_outputs(result)

    generate.click(
        plan, [deal_text, lang], [plan_md, table, chart, notices], api_name="negotiate", concurrency_id="copilot"
    )
