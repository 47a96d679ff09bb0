"""Relevance of a candidate sentence to the deal, with its reasons (`--explain-choices`).

A candidate (talking point, story beat, demo step, discovery question, risk) scores by what of the deal
it speaks to, each with a reason a reviewer can check:
- the deal's pains and goals: +2 for each sharing at least two content words;
- the buyer's industry: +1 for a term of the deal's industry lexicon;
- the constraints: +1 for a regime name or a boundary the deal states;
- the audience: +1 for a role at the table;
- our offering: +1 for a capability, deployment option or certification of the vendor profile.
Candidates are ordered by score (ties keep their order); where a list has more than it needs, those
scoring below MIN_SCORE are dropped. The brief's lists are chosen this way (`order_brief`: discovery
questions, demo steps, talking points; the brief's objections are picked from the playbook's by the same
score in copilot.skills.brief), and `--explain-choices` prints the very scores that decided the order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from copilot.corpus.lexicons import IndustryLexicon, Regime
from copilot.reading.build import boundary_label, name_in
from copilot.reading.model import DealReading
from copilot.results import BriefResult
from copilot.text.segment import tokenize

MIN_SCORE = 1.0
KEEP_AT_LEAST = {"question": 3, "demo step": 4}
"""Below-threshold lines are dropped only while at least this many remain (a demo needs its walk-through)."""
STOP = {"the", "and", "for", "with", "our", "their", "that", "this", "from", "into", "are", "is", "to", "of", "a"}


class Scored(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    text: str
    score: float
    reasons: list[str]


def _words(text: str) -> set[str]:
    return {t for t in tokenize(text.lower()) if len(t) > 1 and t not in STOP and not t.isdigit()}


class Relevance:
    """Scores sentences against one deal reading."""

    def __init__(self, reading: DealReading, lexicons: Sequence[IndustryLexicon], regimes: dict[str, Regime]) -> None:
        self.reading = reading
        deal = reading.deal
        self.needs = [(p, _words(p)) for p in [*deal.pains, *deal.goals] if p.strip()]
        lexicon = next((lex for lex in lexicons if reading.industry and lex.key == reading.industry.key), None)
        self.industry_terms = lexicon.terms(reading.lang) if lexicon else []
        self.constraint_names: list[str] = []
        for key in reading.regimes:
            regime = regimes.get(key)
            if regime is not None:
                self.constraint_names += regime.names.all()
        for c in reading.of_kind("data_residency"):
            if c.boundary:
                self.constraint_names.append(boundary_label(c.boundary, reading.lang))
        self.roles = [a for a in deal.audience if a.strip()]
        vendor = reading.vendor
        self.offering = [*vendor.capabilities, *vendor.deployment, *vendor.certifications] if vendor else []

    def score(self, text: str, kind: str = "") -> Scored:
        reasons: list[str] = []
        score = 0.0
        words = _words(text)
        for need, need_words in self.needs:
            if len(words & need_words) >= 2 or (need and need in text):
                score += 2
                reasons.append(f"pain/goal: {need}")
        term = next((t for t in self.industry_terms if name_in(t, text)), None)
        if term:
            score += 1
            reasons.append(f"industry: {term}")
        name = next((n for n in self.constraint_names if name_in(n, text)), None)
        if name:
            score += 1
            reasons.append(f"constraint: {name}")
        role = next((r for r in self.roles if name_in(r, text)), None)
        if role:
            score += 1
            reasons.append(f"audience: {role}")
        offer = next((o for o in self.offering if len(words & _words(o)) >= 2 or o in text), None)
        if offer:
            score += 1
            reasons.append(f"vendor: {offer}")
        return Scored(kind=kind, text=text, score=score, reasons=reasons or ["scenario only"])

    def order(self, texts: Sequence[str], kind: str, keep_at_least: int) -> list[Scored]:
        """`texts` by score (stable); those below MIN_SCORE dropped while more than `keep_at_least` remain."""
        scored = sorted((self.score(t, kind) for t in texts), key=lambda s: -s.score)
        kept = [s for s in scored if s.score >= MIN_SCORE]
        return kept if len(kept) >= keep_at_least else scored[: max(keep_at_least, len(kept))]


def order_brief(result: BriefResult, relevance: Relevance) -> BriefResult:
    """The brief's candidate lists in the deal's order: discovery questions and demo steps by score, those
    below MIN_SCORE dropped while KEEP_AT_LEAST remain; talking points by score (all kept)."""
    update: dict[str, object] = {}
    for field, kind in (("discovery_questions", "question"), ("demo_script", "demo step")):
        texts: list[str] = getattr(result, field)
        if texts:
            ordered = [s.text for s in relevance.order(texts, kind, min(len(texts), KEEP_AT_LEAST[kind]))]
            if ordered != texts:
                update[field] = ordered
    if len(result.talking_points) > 1:
        scores = [relevance.score(p.point, "talking point").score for p in result.talking_points]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        if order != sorted(order):
            update["talking_points"] = [result.talking_points[i] for i in order]
    return result.model_copy(update=update) if update else result


def candidates(result: BaseModel) -> list[tuple[str, str]]:
    """(kind, sentence) of every candidate sentence a result shows, for `--explain-choices`."""
    out: list[tuple[str, str]] = []
    fields = {
        "talking_points": "talking point",
        "demo_script": "demo step",
        "discovery_questions": "question",
        "reasons": "fit reason",
        "deliverables": "deliverable",
    }
    for name, kind in fields.items():
        for item in getattr(result, name, None) or []:
            text = getattr(item, "point", item)
            if isinstance(text, str):
                out.append((kind, text))
    for beat in ("today", "cost_today", "what_changes", "proof", "response", "answer"):
        text = getattr(result, beat, None)
        if isinstance(text, str) and text.strip():
            out.append(("story beat" if beat not in ("response", "answer") else beat, text))
    for objection in getattr(result, "objections", None) or []:
        out.append(("objection", objection.objection))
    for item in getattr(result, "items", None) or []:
        out.append(("risk", f"{item.risk}: {item.description}"))
    for phase in getattr(result, "phases", None) or []:
        out += [("deliverable", d) for d in phase.deliverables]
    for part in ("story", "risks", "plan", "fit"):
        sub = getattr(result, part, None)
        if isinstance(sub, BaseModel):
            out += candidates(sub)
    return out
