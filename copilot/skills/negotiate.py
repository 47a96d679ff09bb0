"""The negotiation plan, offline: the rules' numbers (copilot.skills.negotiate_rules) put into words.

Opening position per issue with its reason and an anchor (our pricing note or reference from the
vendor profile, else a cited case of the deal's scenario), the offer ladder (a value per issue at
each step, what we concede, what we get), the walk-away line per issue and what to do there, what
to trade first, and the shared-risk options of the method, cited. Every sentence comes from
prompts/offline/<lang>/negotiate.yaml. A deal without a negotiation section gets a message saying
what to add, with an example, and no ladder.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from copilot.deal import Deal, Negotiation, NegotiationIssue
from copilot.grounding import Grounding
from copilot.index.models import SearchFilters
from copilot.skills.negotiate_model import (
    Anchor,
    LadderStep,
    Move,
    NegotiationResult,
    Opening,
    SharedRiskOption,
    Trade,
    WalkAwayLine,
)
from copilot.skills.negotiate_rules import Get, IssuePlan, RawStep, build_ladder, check_ladder, trade_order
from copilot.skills.passages import sources_section
from copilot.text.segment import tokenize
from copilot.vendor import VendorProfile
from copilot.wording import Wording

DATA = Path(__file__).resolve().parent / "data" / "negotiate.yaml"
_LEVEL_RANK = {"low": 1, "medium": 2, "high": 3}


@cache
def shared_risk() -> tuple[tuple[str, str, str], ...]:
    """(key, method document, search query) of each shared-risk option, from data/negotiate.yaml."""
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return tuple((str(o["key"]), str(o["doc"]), str(o["query"])) for o in data["shared_risk"])


def fmt(value: float) -> str:
    """A value as shown everywhere (ladder, narration facts): thousands separated, no float noise."""
    if abs(value - round(value)) < 1e-9 and abs(value) < 1e15:
        return f"{round(value):,}"
    return f"{value:,.10g}"


def _sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


# -- anchors --------------------------------------------------------------------------------------
def _pricing_anchor(issue: NegotiationIssue, vendor: VendorProfile | None, w: Wording) -> Anchor | None:
    if vendor is None:
        return None
    words = {t.lower() for t in tokenize(f"{issue.name} {issue.unit}") if len(t) > 1}
    for note in vendor.pricing_notes:
        if words & {t.lower() for t in tokenize(note)}:
            return Anchor(kind="vendor_pricing", text=w("anchor.vendor_pricing", note=note))
    return None


def _reference_anchor(deal: Deal, vendor: VendorProfile | None, w: Wording) -> Anchor | None:
    if vendor is None:
        return None
    for ref in vendor.references:
        if ref.public and ref.scenario == deal.scenario:
            return Anchor(
                kind="vendor_reference", text=w("anchor.vendor_reference", customer=ref.customer, outcome=ref.outcome)
            )
    return None


def _live(g: Grounding, doc_id: str) -> bool:
    """A case that is live: a failed or wound-down project is a warning, never an anchor for value."""
    doc = g.kb.doc(doc_id)
    return doc is not None and getattr(doc.meta, "status", None) == "live"


def _case_anchor(issue: NegotiationIssue, deal: Deal, g: Grounding, used: set[str], w: Wording) -> Anchor | None:
    query = " ".join([issue.name, *deal.pains[:2], *deal.goals[:1]])
    hits = [
        h
        for h in g.search(query, k=6, filters=SearchFilters(type="case", scenario=deal.scenario))
        if _live(g, h.doc_id)
    ]
    fresh = [h for h in hits if h.doc_id not in used] or hits
    if not fresh:
        return None
    hit = fresh[0]
    used.add(hit.doc_id)
    citation = g.cite(hit)
    return Anchor(kind="case", text=w("anchor.case", title=citation.title), doc_id=hit.doc_id)


# -- parts ----------------------------------------------------------------------------------------
def _opening(p: IssuePlan, anchor: Anchor | None, w: Wording) -> Opening:
    i = p.issue
    theirs = str(i.their_priority) if i.their_priority is not None else w("unknown")
    common = {"value": fmt(p.opening), "unit": i.unit, "ours": i.priority, "theirs": theirs}
    if p.role == "concede" and p.capped and i.their_position is not None:
        reason = w("reason.concede_capped", value=fmt(p.opening), unit=i.unit, their=fmt(i.their_position))
    elif p.role == "concede":
        reason = w("reason.concede", walk_away=fmt(i.walk_away), **common)
    elif p.role == "hold":
        reason = w("reason.hold", **common)
    elif p.role == "settled":
        reason = w("reason.settled", value=fmt(p.opening), unit=i.unit, target=fmt(i.target))
    else:
        reason = w("reason.fixed", value=fmt(p.opening), unit=i.unit)
    return Opening(
        issue=i.name,
        unit=i.unit,
        value=p.opening,
        target=i.target,
        walk_away=i.walk_away,
        better=i.better,
        their_position=i.their_position,
        priority=i.priority,
        their_priority=i.their_priority,
        role=p.role,  # type: ignore[arg-type]
        reason=reason,
        anchor=anchor,
    )


def _get_text(get: Get, units: dict[str, str], w: Wording) -> str:
    if get.kind == "hold" and get.issue is not None and get.value is not None:
        return w("ladder.get_hold", issue=get.issue, value=fmt(get.value), unit=units[get.issue])
    return get.text


def _step(raw: RawStep, units: dict[str, str], w: Wording, lang: str) -> LadderStep:
    moves = [Move(issue=n, unit=units[n], from_value=a, to_value=b) for n, a, b in raw.moves]
    gets = [_get_text(g, units, w) for g in raw.gets]
    if raw.step == 0:
        return LadderStep(step=0, values=raw.values)
    parts = [
        w("ladder.move", issue=m.issue, from_value=fmt(m.from_value), to_value=fmt(m.to_value), unit=m.unit)
        for m in moves
    ]
    parts += [w("ladder.give", give=give) for give in raw.gives]
    summary = w("ladder.summary", moves=_sep(lang).join(parts) or w("ladder.nothing_moves"), gets=_sep(lang).join(gets))
    return LadderStep(step=raw.step, values=raw.values, moves=moves, gives=raw.gives, gets=gets, summary=summary)


def _trades(negotiation: Negotiation, w: Wording) -> list[Trade]:
    out = []
    for rank, t in enumerate(trade_order(list(negotiation.tradeables)), 1):
        edge = _LEVEL_RANK[t.value_to_them] - _LEVEL_RANK[t.cost_to_us]
        key = (
            "trade.fair"
            if edge == 0
            else ("trade.last" if edge < 0 else ("trade.first" if rank == 1 else "trade.early"))
        )
        note = w(key, cost=w(f"level.{t.cost_to_us}"), value=w(f"level.{t.value_to_them}"), get=t.get)
        out.append(
            Trade(give=t.give, get=t.get, cost_to_us=t.cost_to_us, value_to_them=t.value_to_them, rank=rank, note=note)
        )
    return out


def _shared_risk(g: Grounding, w: Wording) -> list[SharedRiskOption]:
    out = []
    for key, doc_id, query in shared_risk():
        citation = g.cite_doc(doc_id, query)
        out.append(
            SharedRiskOption(
                key=key,  # type: ignore[arg-type]
                title=w(f"shared.{key}.title"),
                how=w(f"shared.{key}.how"),
                doc_id=citation.doc_id if citation else None,
            )
        )
    return out


def offline_narration(result: NegotiationResult, w: Wording) -> str:
    lang = result.language
    units = {o.issue: o.unit for o in result.openings}
    first = result.ladder[0].values if result.ladder else {}
    values = _sep(lang).join(f"{n} {fmt(v)} {units[n]}" for n, v in first.items())
    lines = [w("narration.open", values=values)]
    for step in result.ladder[1:]:
        moves = [f"{m.issue} {fmt(m.from_value)} → {fmt(m.to_value)} {m.unit}" for m in step.moves] + step.gives
        lines.append(w("narration.step", k=step.step, moves=_sep(lang).join(moves), gets=_sep(lang).join(step.gets)))
    stops = _sep(lang).join(f"{line.issue} {fmt(line.value)} {line.unit}" for line in result.walk_away)
    lines.append(w("narration.stop", lines=stops))
    if result.trade_first:
        lines.append(w("narration.trade", give=result.trade_first[0].give))
    lines.append(w("narration.shared"))
    return ("" if lang == "zh" else " ").join(lines)


def plan_numbers(result: NegotiationResult) -> str:
    """Every value of the plan written bare and with its unit ("280", "280 万元"): a unit such as 万元 or
    million scales the number before it, so a narration may write either form and both are the plan's."""
    units = {o.issue: o.unit for o in result.openings}
    values = [(o.issue, v) for o in result.openings for v in (o.value, o.target, o.walk_away, o.their_position)]
    values += [(name, v) for s in result.ladder for name, v in s.values.items()]
    lines = [f"{fmt(v)}\n{fmt(v)} {units[name]}" for name, v in values if v is not None]
    lines += [str(s.step) for s in result.ladder] + [f"{o.priority}/5" for o in result.openings]
    return "\n".join(dict.fromkeys(lines))


def ladder_facts(result: NegotiationResult) -> str:
    """The plan's numbers as YAML, as given to a model that narrates it and as the narration is checked against."""
    units = {o.issue: o.unit for o in result.openings}
    data = {
        "openings": [
            {
                "issue": o.issue,
                "unit": o.unit,
                "open": f"{fmt(o.value)} {o.unit}",
                "target": f"{fmt(o.target)} {o.unit}",
                "walk_away": f"{fmt(o.walk_away)} {o.unit}",
                "their_position": f"{fmt(o.their_position)} {o.unit}" if o.their_position is not None else None,
                "priority": f"{o.priority}/5",
                "their_priority": f"{o.their_priority}/5" if o.their_priority is not None else None,
                "role": o.role,
            }
            for o in result.openings
        ],
        "ladder": [
            {
                "step": s.step,
                "values": {n: f"{fmt(v)} {units[n]}" for n, v in s.values.items()},
                "we_concede": s.summary,
                "we_get": s.gets,
            }
            for s in result.ladder
        ],
        "walk_away": [f"{line.issue}: {fmt(line.value)} {line.unit}" for line in result.walk_away],
        "trade_first": [f"{t.rank}. {t.give} -> {t.get}" for t in result.trade_first],
        "shared_risk": [o.title for o in result.shared_risk],
        "alternative": result.alternative,
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000).strip()


def negotiate_offline(g: Grounding, deal: Deal, vendor: VendorProfile | None, lang: str) -> NegotiationResult:
    w = Wording("negotiate", lang)
    negotiation = deal.negotiation
    if negotiation is None or not negotiation.issues:
        result = NegotiationResult(
            language=lang,  # type: ignore[arg-type]
            customer=deal.who(lang),
            has_negotiation=False,
            missing=w("missing"),
        )
        return result.model_copy(update={"text": result.missing})
    plans, raw = build_ladder(negotiation)
    units = {i.name: i.unit for i in negotiation.issues}
    used: set[str] = set()
    reference = _reference_anchor(deal, vendor, w)
    openings = []
    for p in sorted(plans, key=lambda p: -p.issue.priority):
        anchor = _pricing_anchor(p.issue, vendor, w)
        if anchor is None and reference is not None:
            anchor, reference = reference, None
        if anchor is None and p.role in ("concede", "hold"):
            anchor = _case_anchor(p.issue, deal, g, used, w)
        openings.append(_opening(p, anchor, w))
    order = {p.issue.name: n for n, p in enumerate(plans)}
    openings.sort(key=lambda o: order[o.issue])
    fallback = (
        w("walk.with_alternative", alternative=negotiation.alternative)
        if negotiation.alternative
        else w("walk.without_alternative")
    )
    walk = [
        WalkAwayLine(
            issue=i.name,
            unit=i.unit,
            value=i.walk_away,
            better=i.better,
            action=w("walk.action", value=fmt(i.walk_away), unit=i.unit, issue=i.name, fallback=fallback),
        )
        for i in negotiation.issues
    ]
    result = NegotiationResult(
        language=lang,  # type: ignore[arg-type]
        customer=deal.who(lang),
        openings=openings,
        ladder=[_step(s, units, w, lang) for s in raw],
        walk_away=walk,
        trade_first=_trades(negotiation, w),
        shared_risk=_shared_risk(g, w),
        alternative=negotiation.alternative,
        violations=check_ladder(negotiation, plans, raw),
        citations=g.citations,
    )
    result = result.model_copy(update={"narration": offline_narration(result, w)})
    return result.model_copy(update={"text": render_negotiation(result)})


def _table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_negotiation(result: NegotiationResult) -> str:
    lang = result.language
    w = Wording("negotiate", lang)
    if not result.has_negotiation:
        return result.missing
    parts = [f"# {w('title', customer=result.customer)}"]
    if result.narration:
        parts.append(f"## {w('heading.narration')}\n{result.narration}")
    unknown = w("unknown")
    gap = "" if lang == "zh" else " "
    rows = []
    for o in result.openings:
        their = fmt(o.their_position) if o.their_position is not None else unknown
        prio = f"{o.priority} / {o.their_priority if o.their_priority is not None else unknown}"
        reason = o.reason + (gap + w("anchor.wrap", text=o.anchor.text) if o.anchor else "")
        rows.append([o.issue, o.unit, fmt(o.value), fmt(o.walk_away), their, prio, reason])
    header = [w(f"table.{k}") for k in ("issue", "unit", "open", "walk_away", "their_position", "priority", "reason")]
    parts.append(f"## {w('heading.opening')}\n" + _table(header, rows))
    steps = [w("table.opening")] + [w("table.step", k=s.step) for s in result.ladder[1:]]
    ladder_rows = [[o.issue, o.unit, *[fmt(s.values[o.issue]) for s in result.ladder]] for o in result.openings]
    parts.append(f"## {w('heading.ladder')}\n" + _table([w("table.issue"), w("table.unit"), *steps], ladder_rows))
    if len(result.ladder) > 1:
        parts.append(
            f"## {w('heading.steps')}\n"
            + "\n".join(f"- {w('table.step', k=s.step)}: {s.summary}" for s in result.ladder[1:])
        )
    else:
        key = "ladder.no_gets" if any(o.role == "concede" for o in result.openings) else "ladder.no_moves"
        parts.append(f"## {w('heading.steps')}\n{w(key)}")
    parts.append(f"## {w('heading.walk_away')}\n" + "\n".join(f"- {line.action}" for line in result.walk_away))
    if result.trade_first:
        trades = "\n".join(f"{t.rank}. {t.give} → {t.get}: {t.note}" for t in result.trade_first)
        parts.append(f"## {w('heading.trade_first')}\n{trades}")
    if result.shared_risk:
        titles = {c.doc_id: c.title for c in result.citations}
        options = "\n".join(
            f"- **{o.title}**: {o.how}" + (gap + w("source_wrap", title=titles[o.doc_id]) if o.doc_id in titles else "")
            for o in result.shared_risk
        )
        parts.append(f"## {w('heading.shared_risk')}\n{options}")
    checks = w("checks.broken", problems="; ".join(result.violations)) if result.violations else w("checks.ok")
    parts.append(f"## {w('heading.checks')}\n{checks}")
    sources = sources_section(result.citations, lang)
    if sources:
        parts.append(sources)
    return "\n\n".join(parts) + "\n"
