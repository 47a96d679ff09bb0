"""The reading shown back to the rep (`nego deal check FILE`, the deal panel), so a wrong reading can be corrected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot.reading.model import DealReading, ParsedConstraint
from copilot.vocabulary import REGIONS, SCENARIOS
from copilot.wording import Wording

if TYPE_CHECKING:
    from copilot.corpus.lexicons import Regime


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def constraint_values(pc: ParsedConstraint, say: Wording, regimes: dict[str, Regime]) -> str:
    """ "; amount 3,000,000 CNY", "; regime: …": what was read from one constraint."""
    from copilot.reading.build import boundary_label

    out = ""
    if pc.money is not None:
        out += say("check.money", amount=_amount(pc.money.amount), currency=pc.money.currency)
    if pc.months is not None:
        out += say("check.months", months=pc.months)
    if pc.date is not None:
        out += say("check.date", date=pc.date)
    if pc.kind == "compliance":
        regime = regimes.get(pc.regime or "")
        if regime is not None and regime.policy_doc:
            out += say("check.regime", regime=regime.name(say.lang))
        elif regime is not None:
            out += say("check.regime_no_policy", regime=regime.name(say.lang))
        else:
            out += say("check.regime_unknown")
    if pc.boundary is not None:
        out += say("check.boundary", boundary=boundary_label(pc.boundary, say.lang))
    excluded = regimes.get(pc.excluded_regime or "")
    if excluded is not None:
        out += say("check.excluded", regime=excluded.name(say.lang))
    return out


def render_reading(reading: DealReading, regimes: dict[str, Regime], lang: str | None = None) -> str:
    lang = lang or reading.lang
    say = Wording("reading", lang)
    li = 0 if lang == "zh" else 1
    deal = reading.deal
    lines = [
        say("check.title", customer=deal.who(lang)),
        "",
        say(
            "check.scenario",
            scenario=SCENARIOS[deal.scenario][li],
            region=REGIONS[deal.region][li],
            chain=reading.chain_type,
            chain_source=say(f"check.chain_source_{reading.chain_type_source}"),
        ),
    ]
    if reading.industry is not None:
        lines.append(say("check.industry", label=reading.industry.label, matched=reading.industry.matched))
    else:
        lines.append(say("check.industry_none"))
    lines += ["", say("check.constraints", count=len(reading.constraints))]
    if not reading.constraints:
        lines.append(say("check.no_constraints"))
    for pc in reading.constraints:
        source = (
            say("check.source_declared")
            if pc.source == "declared"
            else say("check.source_classified", confidence=f"{pc.confidence:.2f}")
        )
        lines.append(
            say(
                "check.constraint",
                kind=say(f"kinds.{pc.kind}"),
                text=pc.text,
                values=constraint_values(pc, say, regimes),
                source=source,
            )
        )
    lines.append("")
    if reading.vendor is None:
        lines.append(say("check.no_vendor"))
    else:
        lines.append(say("check.vendor", product=reading.vendor.product))
        lines.append(say("check.gaps", count=len(reading.vendor_gaps)) if reading.vendor_gaps else say("check.no_gaps"))
        lines += [say("check.gap", need=g.need, reason=g.reason) for g in reading.vendor_gaps]
    lines += ["", say("check.fix")]
    return "\n".join(lines).strip() + "\n"
