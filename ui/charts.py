"""The brief's two charts (plotly): a risk heat map and a milestone Gantt chart.

Pure display of the typed results: every point and bar comes from a field of
`RisksResult` / `PlanResult`; labels are in the result's language.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict

import plotly.graph_objects as go

from copilot.results import PlanResult, RisksResult
from copilot.wording import Wording

_PHASE_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2")
LEGEND_CHARS = 28


def _esc(text: str) -> str:
    """Plotly renders a small subset of HTML in labels: escape corpus text so none of it is markup."""
    return html.escape(text, quote=False)


def _short(text: str, limit: int = LEGEND_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _offsets(count: int) -> list[tuple[float, float]]:
    """Where the risks sharing one cell sit inside it: the centre for one, a small circle for more."""
    if count == 1:
        return [(0.0, 0.0)]
    radius = 0.3
    return [
        (
            radius * math.cos(2 * math.pi * k / count + math.pi / 2),
            radius * math.sin(2 * math.pi * k / count + math.pi / 2),
        )
        for k in range(count)
    ]


def risk_heatmap(risks: RisksResult) -> go.Figure:
    """Each risk a numbered point at (likelihood, impact) over a green-to-red grid; the legend below names them.

    The numbers on the points are the labels (readable at 390 px); hovering a point shows the risk and why
    this deal's rating differs from the library's.
    """
    t = Wording("charts", risks.language)
    grid = [[likelihood * impact for likelihood in range(1, 6)] for impact in range(1, 6)]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=list(range(1, 6)),
            y=list(range(1, 6)),
            colorscale=[[0.0, "#e8f5e9"], [0.5, "#fff3c4"], [1.0, "#f8c1bd"]],
            showscale=False,
            hoverinfo="skip",
        )
    )
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for n, item in enumerate(risks.items):
        cells[(item.likelihood, item.impact)].append(n)
    for (likelihood, impact), members in sorted(cells.items()):
        for n, (dx, dy) in zip(members, _offsets(len(members)), strict=True):
            item = risks.items[n]
            fig.add_trace(
                go.Scatter(
                    x=[likelihood + dx],
                    y=[impact + dy],
                    mode="markers+text",
                    text=[str(n + 1)],
                    textposition="middle center",
                    textfont={"size": 11, "color": "#1f2933"},
                    marker={"size": 20, "color": "white", "line": {"width": 2, "color": "#1f2933"}},
                    name=f"{n + 1}. {_esc(_short(item.risk))}",
                    legendrank=n + 1,  # the legend lists the risks in the result's order
                    hovertext=[
                        f"{_esc(item.risk)}<br>{_esc(item.category_label)}<br>"
                        f"{t('likelihood')} {item.likelihood} × {t('impact')} {item.impact}"
                        + "".join(f"<br>· {_esc(_short(r, 60))}" for r in item.rating_reasons)
                    ],
                    hoverinfo="text",
                )
            )
    axis = {"range": [0.5, 5.5], "dtick": 1, "showgrid": False, "zeroline": False}
    fig.update_layout(
        title={"text": t("heat_title")},
        xaxis={**axis, "title": {"text": t("likelihood")}},
        yaxis={**axis, "title": {"text": t("impact")}},
        # The legend sits below the plot, one risk per line: beside it, it covered the plot on a phone.
        legend={"font": {"size": 11}, "orientation": "h", "x": 0, "xanchor": "left", "y": -0.14, "yanchor": "top"},
        margin={"l": 50, "r": 10, "t": 50, "b": 20},
        height=420 + 22 * len(risks.items),
        plot_bgcolor="white",
    )
    return fig


def milestone_gantt(plan: PlanResult) -> go.Figure:
    """One bar per phase from its start month to its end month, a milestone diamond at each phase's end."""
    t = Wording("charts", plan.language)
    fig = go.Figure()
    names = [f"{n + 1}. {_esc(_short(p.name, 24))}" for n, p in enumerate(plan.phases)]
    for n, (phase, name) in enumerate(zip(plan.phases, names, strict=True)):
        kpis = "<br>".join(f"· {_esc(k.name)}: {_esc(k.target)} {_esc(k.unit)}" for k in phase.kpis)
        deliverables = "<br>".join(f"· {_esc(_short(d, 60))}" for d in phase.deliverables)
        fig.add_trace(
            go.Bar(
                y=[name],
                x=[phase.end_month - phase.start_month + 1],
                base=[phase.start_month - 1],
                orientation="h",
                marker={"color": _PHASE_COLOURS[n % len(_PHASE_COLOURS)]},
                name=name,
                hovertext=[
                    f"<b>{_esc(phase.name)}</b><br>{t('deliverables')}:<br>{deliverables}<br>{t('kpi')}:<br>{kpis}"
                ],
                hoverinfo="text",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[p.end_month for p in plan.phases],
            y=names,
            mode="markers",
            marker={"symbol": "diamond", "size": 14, "color": "#1f2933"},
            name=t("milestone"),
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title={"text": t("gantt_title")},
        barmode="overlay",
        xaxis={
            "title": {"text": t("month")},
            "range": [0, max(plan.horizon_months, *(p.end_month for p in plan.phases)) + 0.5],
            "dtick": 1 if plan.horizon_months <= 12 else 3,
        },
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 50, "b": 45},
        height=320,
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
