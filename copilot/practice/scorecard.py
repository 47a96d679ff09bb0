"""The role-play rubric: six items scored 0-10 by code from the rep's turn signals, each with quotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copilot.practice.models import ITEM_KEYS, ItemKey, Scorecard, ScoreItem
from copilot.practice.signals import TurnSignals
from copilot.wording import Wording

STEPS = (0, 4, 7, 10)
"""Score for 0, 1, 2 and 3+ pieces of evidence (questions asked, sentences tied to a pain)."""
CLAIM_PENALTY = 2
INVENTED_PENALTY = 5
HONESTY_WITHOUT_FIT = 7
"""Honesty when no figure is invented but the rep never says where the solution does not fit."""
MAX_EVIDENCE = 3
GOOD = 8
FAIR = 4
"""An item scoring at least GOOD (FAIR) gets the good (fair) reason."""


@dataclass(frozen=True)
class ObjectionAnswer:
    """The rep's turns that answered one objection (its follow-ups included)."""

    concern: str
    turns: Sequence[TurnSignals]


def _steps(count: int) -> int:
    return STEPS[min(count, len(STEPS) - 1)]


def _unique(quotes: list[str]) -> list[str]:
    return list(dict.fromkeys(q.strip() for q in quotes if q.strip()))[:MAX_EVIDENCE]


def score_items(
    turns: Sequence[TurnSignals], answers: Sequence[ObjectionAnswer]
) -> dict[ItemKey, tuple[int, dict[str, object], list[str]]]:
    """Per item: (score, the figures its reason names, evidence quotes)."""
    questions = _unique([q for t in turns for q in t.questions])
    links = list(dict.fromkeys(s for t in turns for s in t.pain_links))
    claims = list(dict.fromkeys(s for t in turns for s in t.empty_claims))
    jargon = list(dict.fromkeys(j for t in turns for j in t.jargon))
    explained = list(dict.fromkeys(j for t in turns for j in t.explained if j not in jargon))
    invented = list(dict.fromkeys(f for t in turns for f in t.invented))
    fits = _unique([s for t in turns for s in t.fit_limits])
    steps = _unique([s for t in turns for s in t.next_steps])
    proven = [a for a in answers if any(t.proof for t in a.turns)]
    out: dict[ItemKey, tuple[int, dict[str, object], list[str]]] = {}
    out["discovery"] = (_steps(len(questions)), {"n": len(questions)}, questions)
    value = max(0, _steps(len(links)) - CLAIM_PENALTY * len(claims))
    out["value"] = (value, {"n": len(links), "claims": len(claims)}, _unique(links + claims))
    used = len(jargon) + len(explained)
    jargon_score = 10 if used == 0 else round(10 * len(explained) / used)
    jargon_quotes = [s for t in turns for s in _sentences_with(t, jargon)]
    out["jargon"] = (
        jargon_score,
        {"unexplained": "、".join(jargon) or "-", "explained": len(explained)},
        _unique(jargon_quotes),
    )
    any_proof = 10 if any(t.proof for t in turns) else 0
    proof_score = round(10 * len(proven) / len(answers)) if answers else any_proof
    proof_quotes = [q for t in turns for q in t.case_quotes]
    out["proof"] = (proof_score, {"n": len(proven), "of": len(answers)}, _unique(proof_quotes))
    honesty = max(0, (10 if fits else HONESTY_WITHOUT_FIT) - INVENTED_PENALTY * len(invented))
    invented_quotes = [q for t in turns for q in t.invented_quotes]
    out["honesty"] = (
        honesty,
        {"invented": "、".join(invented) or "-", "fit": len(fits)},
        _unique(invented_quotes + fits),
    )
    out["next_step"] = (10 if steps else 0, {"n": len(steps)}, steps)
    return out


def _sentences_with(turn: TurnSignals, terms: list[str]) -> list[str]:
    return [turn.text] if any(term in turn.text for term in terms) else []


def scorecard(turns: Sequence[TurnSignals], answers: Sequence[ObjectionAnswer], lang: str) -> Scorecard:
    words = Wording("roleplay", lang)
    scored = score_items(turns, answers)
    items = []
    for key in ITEM_KEYS:
        score, figures, quotes = scored[key]
        level = "good" if score >= GOOD else "fair" if score >= FAIR else "weak"
        items.append(
            ScoreItem(
                key=key,
                label=words(f"items.{key}.label"),
                score=score,
                reason=words(f"items.{key}.{level}", **figures),
                evidence=quotes,
            )
        )
    overall = round(sum(i.score for i in items) / len(items), 1)
    verdict = words("verdict.good" if overall >= 7 else "verdict.fair" if overall >= 4.5 else "verdict.weak")
    return Scorecard(items=items, overall=overall, verdict=verdict)
