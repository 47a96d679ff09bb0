"""Risk ratings from the deal: the library's generic likelihood and impact, adjusted by the deal's facts.

The risk library rates each risk for a typical project; a rep needs this deal's ratings. Each rule
below reads one fact of the deal (systems to integrate, constraints as the reading classified them,
stage, region, pains, and our vendor profile when there is one), moves likelihood or impact by one
step (within 1..5) and records why, in the deal's language. Code decides the numbers; the wording
of the reasons is in prompts/offline/<lang>/risk_rating.yaml. Nothing is guessed: a fact the deal
does not give changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copilot.deal import Deal
from copilot.results import RiskItem
from copilot.vendor import VendorProfile
from copilot.wording import Wording

LOW, HIGH = 1, 5
LIST_SHOWN = 3
PRIVACY_REGIONS = ("eu", "uk")


@dataclass(frozen=True)
class Facts:
    """What the rules read: the deal, its constraints by kind, and our vendor profile."""

    deal: Deal
    by_kind: dict[str, list[str]]
    vendor: VendorProfile | None


@dataclass(frozen=True)
class Rule:
    category: str
    field: str  # "likelihood" | "impact"
    step: int
    reason: str  # wording key
    applies: Callable[[Facts], dict[str, str] | None]
    """The variables of the reason when the rule applies, else None."""


def _listed(items: list[str], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(items[:LIST_SHOWN]) + ("…" if len(items) > LIST_SHOWN else "")


def _kind(kind: str) -> Callable[[Facts], dict[str, str] | None]:
    def applies(f: Facts) -> dict[str, str] | None:
        texts = f.by_kind.get(kind, [])
        return {"items": _listed(texts, f.deal.lang)} if texts else None

    return applies


def _systems_many(f: Facts) -> dict[str, str] | None:
    n = len(f.deal.systems)
    return {"n": str(n), "items": _listed(f.deal.systems, f.deal.lang)} if n >= 2 else None


def _systems_none(f: Facts) -> dict[str, str] | None:
    return {} if not f.deal.systems else None


def _late_stage(f: Facts) -> dict[str, str] | None:
    return {"stage": f.deal.stage} if f.deal.stage in ("negotiation", "closing") else None


def _no_pain(f: Facts) -> dict[str, str] | None:
    return {} if not f.deal.pains else None


def _privacy_region(f: Facts) -> dict[str, str] | None:
    return {"region": f.deal.region.upper()} if f.deal.region in PRIVACY_REGIONS else None


def _certified(f: Facts) -> dict[str, str] | None:
    certs = f.vendor.certifications if f.vendor else []
    return {"items": _listed(list(certs), f.deal.lang)} if certs else None


def _reference(f: Facts) -> dict[str, str] | None:
    refs = [r for r in (f.vendor.references if f.vendor else []) if r.scenario == f.deal.scenario and r.public]
    return {"customer": refs[0].customer} if refs else None


def _integrates(f: Facts) -> dict[str, str] | None:
    offered = [i.lower() for i in (f.vendor.integrations if f.vendor else [])]
    covered = [s for s in f.deal.systems if any(o in s.lower() or s.lower() in o for o in offered)]
    return {"items": _listed(covered, f.deal.lang)} if covered and len(covered) == len(f.deal.systems) else None


RULES: tuple[Rule, ...] = (
    Rule("integration", "likelihood", +1, "systems_many", _systems_many),
    Rule("integration", "likelihood", -1, "systems_none", _systems_none),
    Rule("regulatory_compliance", "likelihood", +1, "compliance", _kind("compliance")),
    Rule("data_security_privacy", "likelihood", +1, "residency", _kind("data_residency")),
    Rule("data_security_privacy", "impact", +1, "privacy_region", _privacy_region),
    Rule("cost_roi", "impact", +1, "budget", _kind("budget")),
    Rule("cost_roi", "likelihood", +1, "late_stage", _late_stage),
    Rule("user_adoption", "likelihood", +1, "timeline", _kind("timeline")),
    Rule("wrong_tool", "likelihood", +1, "no_pain", _no_pain),
    Rule("data_security_privacy", "likelihood", -1, "certified", _certified),
    Rule("vendor_viability", "likelihood", -1, "reference", _reference),
    Rule("integration", "likelihood", -1, "integrates", _integrates),
)


CONCERN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "cost_roi": ("cost_roi",),
    "partner_adoption": ("user_adoption", "consortium_governance"),
    "data_quality": ("integration",),
    "necessity": ("wrong_tool",),
    "privacy_confidentiality": ("data_security_privacy",),
    "regulatory_compliance": ("regulatory_compliance", "legal_enforceability"),
    "vendor_viability_lockin": ("vendor_viability", "interoperability_lockin"),
    "performance_scale": ("operations_performance",),
    "integration_effort": ("integration",),
    "security": ("key_management", "data_security_privacy"),
    "governance_control": ("consortium_governance",),
}
"""Which risk categories a buyer's concern (the objections taxonomy, prompts/taxonomy/concerns.yaml) points to."""
QUIET = tuple(sorted({c for cs in CONCERN_CATEGORIES.values() for c in cs} - {"regulatory_compliance", "integration"}))
"""Categories the buyer's own pains would show: when the buyer named pains and none points here, likelihood -1.
Not regulatory compliance (the law applies whatever the buyer says) nor integration (the systems rule reads it)."""


def pain_signals(deal: Deal, classify: Callable[[str, str], Any] | None) -> dict[str, str]:
    """Risk category -> the first pain of the deal that points to it (via the objection classifier)."""
    if classify is None:
        return {}
    out: dict[str, str] = {}
    for pain in deal.pains:
        got = classify("objections", pain)
        if got.unsure:
            continue
        for category in CONCERN_CATEGORIES.get(got.label, ()):
            out.setdefault(category, pain)
    return out


def rate_risks(
    items: list[RiskItem],
    deal: Deal,
    by_kind: dict[str, list[str]] | None = None,
    vendor: VendorProfile | None = None,
    classify: Callable[[str, str], Any] | None = None,
) -> list[RiskItem]:
    """`items` with likelihood and impact adjusted by the deal's facts, each change with its reason.

    `by_kind` are the deal's constraint texts by kind (budget, timeline, compliance, data_residency,
    other), as copilot.reading classified them; without it, the kinds the rep declared are used.
    `classify` (kb.understanding.classify) reads the buyer's pains as concerns: a risk a pain points to
    is more likely; a risk the buyer's pains would show, when none does, less likely.
    """
    facts = Facts(deal, by_kind if by_kind is not None else _declared(deal), vendor)
    w = Wording("risk_rating", deal.lang)
    signals = pain_signals(deal, classify)
    out = []
    for item in items:
        values = {"likelihood": item.likelihood, "impact": item.impact}
        reasons = list(item.rating_reasons)
        step: tuple[str, dict[str, str], int] | None = None
        if item.category in signals:
            step = ("pain", {"pain": signals[item.category]}, +1)
        elif classify is not None and deal.pains and item.category in QUIET:
            step = ("quiet", {}, -1)
        if step is not None:
            before = values["likelihood"]
            after = min(HIGH, max(LOW, before + step[2]))
            if after != before:
                values["likelihood"] = after
                change = w("change.likelihood", before=before, after=after)
                reasons.append(w("reason", change=change, why=w(f"why.{step[0]}", **step[1])))
        for rule in RULES:
            if rule.category != item.category:
                continue
            variables = rule.applies(facts)
            if variables is None:
                continue
            if "stage" in variables:
                variables = {**variables, "stage": w(f"stages.{variables['stage']}")}
            before = values[rule.field]
            after = min(HIGH, max(LOW, before + rule.step))
            if after == before:
                continue
            values[rule.field] = after
            change = w(f"change.{rule.field}", before=before, after=after)
            reasons.append(w("reason", change=change, why=w(f"why.{rule.reason}", **variables)))
        out.append(item.model_copy(update={**values, "rating_reasons": reasons}))
    return out


def _declared(deal: Deal) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text, kind in deal.constraints.declared():
        if kind is not None:
            out.setdefault(kind, []).append(text)
    return out


def rating_lines(item: RiskItem, lang: str) -> list[str]:
    """Markdown lines saying why this risk's rating differs from the library's (none when it does not)."""
    if not item.rating_reasons:
        return []
    return ["", Wording("risk_rating", lang)("heading"), *[f"- {r}" for r in item.rating_reasons]]
