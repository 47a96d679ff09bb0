"""How the deal's constraints shape the plan and the risk checklist (read once, in copilot.reading).

Plan:
- timeline: the horizon follows the buyer's months (or the months until their date), within the
  plan's 3..60 months; the pilot ends with the second-to-last phase. An explicit horizon wins.
- budget: phase one is labelled with the buyer's budget (in their words) and scoped to a staged
  pilot, with the reason cited from the method (staged pilots: the buyer only takes on the risk of
  the next stage) and a warning that the corpus holds no phase-one cost figures to check it against.
- data residency / network boundary: a deployment line and a phase-one deliverable; whether our
  vendor profile's deployment options meet it, or that they do not.
Risks:
- each compliance regime: an item citing the regime's policy document when corpus/regimes.yaml maps
  one; otherwise an honest "not in the knowledge base: confirm with legal" item, claiming nothing.
- each boundary: a deployment item.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from copilot.corpus.lexicons import Regime
from copilot.grounding import Grounding
from copilot.reading.build import boundaries, boundary_label, name_in
from copilot.reading.model import DealReading, ParsedConstraint
from copilot.results import Notice, RiskItem
from copilot.skills.passages import Cited
from copilot.skills.plan_words import number_words
from copilot.text.chunking import split_sentences
from copilot.text.segment import tokenize
from copilot.vocabulary import RISK_CATEGORIES
from copilot.wording import Wording

MIN_HORIZON = 3
MAX_HORIZON = 60
DEFAULT_HORIZON = 12
METHOD_DOC = "method-shared-risk"
REGIME_RATING = (4, 4)
"""Likelihood and impact of a regime the buyer named: it applies (they said so) and failing it stops the deal."""
RESIDENCY_RATING = (4, 3)


@dataclass
class Horizon:
    months: int
    pilot_from_deal: bool = False
    lines: list[str] = field(default_factory=list)


def _months_until(date: str, today: dt.date) -> int:
    year, month = (int(p) for p in date.split("-"))
    return (year * 12 + month) - (today.year * 12 + today.month)


def plan_horizon(reading: DealReading | None, requested: int | None, today: dt.date | None = None) -> Horizon:
    """The plan's horizon: `requested` if given, else the deal's timeline, else twelve months."""
    if requested is not None or reading is None:
        return Horizon(requested if requested is not None else DEFAULT_HORIZON)
    say = Wording("plan", reading.lang)
    for pc in reading.of_kind("timeline"):
        months = pc.months
        if months is None and pc.date is not None:
            months = _months_until(pc.date, today or dt.date.today())
            if months < 1:
                words = number_words(DEFAULT_HORIZON, reading.lang)
                return Horizon(DEFAULT_HORIZON, False, [say("shaping.timeline_past", text=pc.text, months=words)])
        if months is None:
            continue
        if months < MIN_HORIZON:
            words = number_words(MIN_HORIZON, reading.lang)
            return Horizon(MIN_HORIZON, True, [say("shaping.timeline_clamped", text=pc.text, months=words)])
        return Horizon(min(months, MAX_HORIZON), True)
    return Horizon(DEFAULT_HORIZON)


def timeline_line(reading: DealReading, horizon: Horizon, pilot_end: int) -> list[str]:
    if not horizon.pilot_from_deal or horizon.lines:
        return horizon.lines
    say = Wording("plan", reading.lang)
    pc = reading.of_kind("timeline")[0]
    key = "shaping.timeline_months" if pc.months is not None else "shaping.timeline_date"
    months, pilot = number_words(horizon.months, reading.lang), number_words(pilot_end, reading.lang)
    return [say(key, text=pc.text, months=months, pilot=pilot)]


def _best_sentence(text: str, query: str) -> str:
    wanted = set(tokenize(query))
    sentences = split_sentences(text)
    return max(sentences, key=lambda s: len(wanted & set(tokenize(s)))) if sentences else ""


def budget_lines(reading: DealReading, src: Cited, g: Grounding) -> tuple[str | None, list[str]]:
    """Phase one's label and the plan lines saying how the budget shapes it (with the cited reason)."""
    budget = next((c for c in reading.of_kind("budget") if c.money is not None), None)
    if budget is None or budget.money is None:
        return None, []
    say = Wording("plan", reading.lang)
    amount = budget.money.text
    lines = [say("shaping.budget", text=budget.text, budget=amount)]
    query = say("shaping.budget_query")
    hit = g.passage(METHOD_DOC, query)
    if hit is not None:
        reason = src.ground(METHOD_DOC, _best_sentence(hit.text, query).lstrip("- "))
        if reason:
            src.cite(hit)
            lines.append(say("shaping.budget_reason", reason=reason))
    lines.append(say("shaping.budget_warning", budget=amount))
    if reading.vendor is not None and reading.vendor.pricing_notes:
        lines.append(say("shaping.budget_pricing", notes="; ".join(reading.vendor.pricing_notes)))
    return say("shaping.budget_label", budget=amount), lines


def budget_next_step(reading: DealReading | None) -> list[str]:
    """The brief's next step naming the buyer's budget (in their words), when the deal gives one."""
    budget = next((c for c in reading.of_kind("budget") if c.money is not None), None) if reading else None
    if reading is None or budget is None or budget.money is None:
        return []
    return [Wording("plan", reading.lang)("shaping.budget_next_step", budget=budget.money.text)]


def _vendor_option(reading: DealReading, boundary: str) -> str | None:
    if reading.vendor is None:
        return None
    listed = boundaries().get(boundary, {}).get("deployment")
    words = [str(w) for w in listed] if isinstance(listed, list) else []
    if any(name_in(w, item) for w in words for item in reading.vendor.not_offered):
        return None
    return next((opt for opt in reading.vendor.deployment if any(name_in(w, opt) for w in words)), None)


def deployment_lines(reading: DealReading) -> tuple[list[str], list[str]]:
    """(plan lines, phase-one deliverables) for each residency / network boundary of the deal."""
    say = Wording("plan", reading.lang)
    lines: list[str] = []
    deliverables: list[str] = []
    for pc in reading.of_kind("data_residency"):
        label = boundary_label(pc.boundary, reading.lang) if pc.boundary else pc.text
        line = say("shaping.deployment", boundary=label, text=pc.text)
        if reading.vendor is not None:
            option = _vendor_option(reading, pc.boundary or "")
            extra = say("shaping.deployment_vendor", option=option) if option else say("shaping.deployment_gap")
            line += (" " if reading.lang == "en" else "") + extra
        lines.append(line)
        deliverables.append(say("shaping.deliverable", boundary=label))
    return lines, deliverables


def vendor_lines(reading: DealReading) -> list[str]:
    """Our product by name, our own references in the deal's scenario (marked as ours), and the vendor gaps."""
    vendor = reading.vendor
    if vendor is None:
        return []
    say = Wording("plan", reading.lang)
    lines = [say("shaping.vendor_offer", product=vendor.product, company=vendor.company)]
    for ref in vendor.references:
        if ref.public and ref.scenario in (None, reading.deal.scenario):
            lines.append(say("shaping.vendor_reference", customer=ref.customer, outcome=ref.outcome))
    if reading.vendor_gaps:
        sep = "；" if reading.lang == "zh" else "; "
        needs = sep.join(g.need for g in reading.vendor_gaps)
        count = number_words(len(reading.vendor_gaps), reading.lang)
        lines.append(say("shaping.vendor_gaps", count=count, needs=needs))
    return lines


# -- risks ------------------------------------------------------------------------------------------
def _regime_item(
    pc: ParsedConstraint, regime: Regime | None, reading: DealReading, src: Cited, say: Wording
) -> tuple[RiskItem, Notice | None]:
    lang = reading.lang
    li = 0 if lang == "zh" else 1
    likelihood, impact = REGIME_RATING
    policy = regime.policy_doc if regime is not None else None
    name = regime.name(lang) if regime is not None else pc.text
    key = regime.key if regime is not None else "unknown-" + hashlib.sha256(pc.text.encode()).hexdigest()[:8]
    cited = src.cite_doc(policy, f"{name} {pc.text}") if policy else None
    if cited is not None:
        description = say("regime.description", text=pc.text, regime=name, policy=cited.title)
        mitigations = say.all("regime.mitigations", regime=name, policy=cited.title)
        evidence = [cited.doc_id]
        notice = None
    else:
        description = say("regime.missing", text=pc.text, regime=name)
        mitigations = say.all("regime.missing_mitigations", regime=name)
        evidence = []
        notice = Notice(kind="no_knowledge", message=say("regime.missing_notice", regime=name))
    vendor_line = _vendor_certification(reading, regime, say)
    if vendor_line:
        mitigations.append(vendor_line)
    item = RiskItem(
        risk_id=f"regime-{key}".replace("_", "-"),
        category="regulatory_compliance",
        category_label=RISK_CATEGORIES["regulatory_compliance"][li],
        risk=say("regime.title", regime=name),
        description=description,
        likelihood=likelihood,
        impact=impact,
        mitigations=mitigations,
        owner="joint",
        warning_signals=say.all("regime.signals", regime=name),
        evidence=evidence,
    )
    return item, notice


def _vendor_certification(reading: DealReading, regime: Regime | None, say: Wording) -> str | None:
    if reading.vendor is None or regime is None:
        return None
    held = next((c for c in reading.vendor.certifications if any(name_in(n, c) for n in regime.names.all())), None)
    if held:
        return say("regime.vendor_holds", certification=held)
    return say("regime.vendor_gap", regime=regime.name(reading.lang))


def constraint_risks(
    reading: DealReading, regimes: dict[str, Regime], src: Cited
) -> tuple[list[RiskItem], list[Notice]]:
    """A risk item per compliance constraint (one per regime) and per residency boundary."""
    say = Wording("risks", reading.lang)
    li = 0 if reading.lang == "zh" else 1
    items: list[RiskItem] = []
    notices: list[Notice] = []
    seen: set[str] = set()
    for pc in reading.of_kind("compliance"):
        regime = regimes.get(pc.regime or "")
        key = regime.key if regime is not None else pc.text
        if key in seen:
            continue
        seen.add(key)
        item, notice = _regime_item(pc, regime, reading, src, say)
        items.append(item)
        if notice is not None:
            notices.append(notice)
    for n, pc in enumerate(reading.of_kind("data_residency"), 1):
        label = boundary_label(pc.boundary, reading.lang) if pc.boundary else pc.text
        likelihood, impact = RESIDENCY_RATING
        mitigations = say.all("residency.mitigations", boundary=label)
        if reading.vendor is not None:
            option = _vendor_option(reading, pc.boundary or "")
            mitigations.append(
                say("residency.vendor", option=option) if option else say("residency.vendor_gap", boundary=label)
            )
        items.append(
            RiskItem(
                risk_id=f"residency-{pc.boundary or n}".replace("_", "-"),
                category="data_security_privacy",
                category_label=RISK_CATEGORIES["data_security_privacy"][li],
                risk=say("residency.title", boundary=label),
                description=say("residency.description", text=pc.text, boundary=label),
                likelihood=likelihood,
                impact=impact,
                mitigations=mitigations,
                owner="joint",
                warning_signals=say.all("residency.signals", boundary=label),
                evidence=[],
            )
        )
    return items, notices
