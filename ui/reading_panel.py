"""The deal panel's reading: how the copilot reads the deal, shown back so a rep can correct it.

Each constraint with its class (budget with amount and currency, timeline, compliance regime, data
residency / network boundary, other: what could not be classified is still shown), the industry
matched (or none), the chain type, our product and the needs its profile does not cover; without a
vendor profile, how to add one. The reading itself is copilot.reading's (`Copilot.read`); this module
only lays it out, in the interface language (prompts/offline/<lang>/ui.yaml, `reading.*`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from copilot.deal import Deal, DealError
from copilot.reading.build import boundary_label
from copilot.reading.model import DealReading, ParsedConstraint
from ui.deal_form import DealForm, form_values, read_form
from ui.labels import Labels, ui_text
from ui.render import safe_md

if TYPE_CHECKING:
    from copilot.corpus.lexicons import Regime
    from ui.context import AppContext


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return safe_md(" ".join(text.split())).replace("|", "\\|")


def _values(pc: ParsedConstraint, regimes: dict[str, Regime], lang: str) -> str:
    """What was read from one constraint, in words."""

    def say(key: str, **variables: Any) -> str:
        return ui_text(lang, f"reading.{key}", **variables)

    parts: list[str] = []
    if pc.kind == "budget":
        money = pc.money
        parts.append(
            say("money", amount=_amount(money.amount), currency=money.currency) if money else say("money_none")
        )
    elif pc.kind == "timeline":
        parts += [say("months", months=pc.months)] if pc.months is not None else []
        parts += [say("date", date=pc.date)] if pc.date is not None else []
        parts = parts or [say("timeline_none")]
    elif pc.kind == "compliance":
        regime = regimes.get(pc.regime or "")
        if regime is None:
            parts.append(say("regime_unknown"))
        else:
            key = "regime" if regime.policy_doc else "regime_missing"
            parts.append(say(key, regime=regime.name(lang)))
    elif pc.kind == "data_residency":
        parts.append(
            say("boundary", boundary=boundary_label(pc.boundary, lang)) if pc.boundary else say("boundary_none")
        )
    excluded = regimes.get(pc.excluded_regime or "")
    if excluded is not None:
        parts.append(say("excluded", regime=excluded.name(lang)))
    return "; ".join(parts) or say("nothing")


def reading_markdown(reading: DealReading, regimes: dict[str, Regime], lang: str) -> str:
    """The reading as Markdown for the deal panel, in the interface language `lang`."""

    def say(key: str, **variables: Any) -> str:
        return ui_text(lang, f"reading.{key}", **variables)

    lines = [say("title")]
    industry = reading.industry
    lines.append(
        say("industry", label=_cell(industry.label), matched=_cell(industry.matched))
        if industry
        else say("industry_none")
    )
    chain, source = say(f"chain_{reading.chain_type}"), say(f"chain_{reading.chain_type_source}")
    lines.append(say("chain", chain=chain, source=source))
    lines.append("")
    if not reading.constraints:
        lines.append(say("constraints_none"))
    else:
        lines.append(say("table"))
        for pc in reading.constraints:
            source = (
                say("declared") if pc.source == "declared" else say("classified", confidence=f"{pc.confidence:.2f}")
            )
            lines.append(
                say(
                    "row",
                    kind=say(f"kind_{pc.kind}"),
                    text=_cell(pc.text),
                    values=_cell(_values(pc, regimes, lang)),
                    source=source,
                )
            )
    lines.append("")
    if reading.vendor is None:
        lines.append(say("no_vendor"))
    else:
        lines.append(say("vendor", product=_cell(reading.vendor.product)))
        if reading.vendor_gaps:
            lines.append(say("gaps", count=len(reading.vendor_gaps)))
            lines += [say("gap", need=_cell(g.need), reason=_cell(g.reason)) for g in reading.vendor_gaps]
        else:
            lines.append(say("no_gaps"))
    lines += ["", say("hint")]
    return "\n".join(lines)


def deal_reading_md(ctx: AppContext, deal: Deal, lang: str) -> str:
    copilot = ctx.copilot
    regimes = {r.key: r for r in copilot.kb.regimes}
    return reading_markdown(copilot.read(deal), regimes, lang if lang in ("zh", "en") else deal.lang)


def add_reading_panel(ctx: AppContext, form: DealForm, labels: Labels, ui_lang: gr.Radio) -> gr.Markdown:
    """A button under the deal form and the reading it shows; returns the reading's Markdown component."""
    button = labels.reg(
        gr.Button(labels.t("reading.check"), size="sm", elem_id="deal-reading-check"), value="reading.check"
    )
    shown = gr.Markdown("", elem_id="deal-reading")

    def check(*values: Any) -> str:
        *fields, lang = values
        try:
            deal = read_form(form_values(*fields), ui_lang=lang).deal
        except DealError as exc:
            return ui_text(lang, "reading.problem") + " " + safe_md(str(exc))
        return deal_reading_md(ctx, deal, lang)

    button.click(check, [*form.components(), ui_lang], [shown], api_name="deal_reading", concurrency_id="copilot")
    return shown


def reading_md_after_turn(ctx: AppContext, values: list[Any], lang: str, shown: str) -> Any:
    """The reading again after a chat turn, when one is shown (a hidden panel stays hidden)."""
    if not (shown or "").strip():
        return gr.skip()
    try:
        deal = read_form(form_values(*values), ui_lang=lang).deal
    except DealError:
        return gr.skip()
    return deal_reading_md(ctx, deal, lang)
