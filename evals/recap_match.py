"""Scoring a recap against a labelled note (evals/datasets/recap_notes.yaml): precision, recall, hedged overwrites.

An extracted value matches an expected key phrase when, after NFKC normalisation, case folding and
whitespace collapsing, the value contains the phrase. Structured items (stakeholders, objections,
commitments) match when every non-null expected field matches (an objection's concern must be equal).
Each extracted item matches at most one expected item and vice versa (greedy, in order).
Hedged values listed as open questions are not false positives.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

LIST_FIELDS = ("decisions", "pains", "goals", "constraints", "open_questions")
ITEM_FIELDS = ("stakeholders", "objections", "commitments")


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def contains(value: str | None, phrase: str | None) -> bool:
    return phrase is None or norm(phrase) in norm(value)


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn
        self.misses += other.misses
        self.extras += other.extras

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _pair(
    expected: Sequence[Any],
    extracted: Sequence[Any],
    match: Callable[[Any, Any], bool],
    label: str,
    ignore: Callable[[Any], bool],
) -> Tally:
    tally = Tally()
    used: set[int] = set()
    for want in expected:
        hit = next((i for i, got in enumerate(extracted) if i not in used and match(want, got)), None)
        if hit is None:
            tally.fn += 1
            tally.misses.append(f"{label}: {want}")
        else:
            used.add(hit)
            tally.tp += 1
    for i, got in enumerate(extracted):
        if i not in used and not ignore(got):
            tally.fp += 1
            tally.extras.append(f"{label}: {got}")
    return tally


def score_recap(expected: dict[str, Any], recap: Any) -> dict[str, Tally]:
    """Per field, the true/false positives and misses of `recap` (a RecapResult) against `expected`."""
    hedged = [h["value"] for h in expected.get("hedged", [])]

    def no(_: Any) -> bool:
        return False

    out: dict[str, Tally] = {}
    for name in LIST_FIELDS:
        texts = [i.text for i in getattr(recap, name)]
        ignore = (lambda t: any(contains(t, h) for h in hedged)) if name == "open_questions" else no
        out[name] = _pair(expected.get(name, []), texts, lambda w, g: contains(g, w), name, ignore)
    out["stakeholders"] = _pair(
        expected.get("stakeholders", []),
        recap.stakeholders,
        lambda w, g: contains(g.name, w["name"]) and contains(g.role, w.get("role")),
        "stakeholders",
        no,
    )
    out["objections"] = _pair(
        expected.get("objections", []),
        recap.objections,
        lambda w, g: contains(g.text, w["text"]) and g.concern == w["concern"],
        "objections",
        no,
    )
    out["commitments"] = _pair(
        expected.get("commitments", []),
        recap.commitments,
        lambda w, g: (
            contains(g.owner, w.get("owner")) and contains(g.action, w["action"]) and contains(g.due, w.get("due"))
        ),
        "commitments",
        no,
    )
    want_next = expected.get("next_meeting")
    got_next = recap.next_meeting.text if recap.next_meeting else None
    out["next_meeting"] = _pair(
        [want_next] if want_next else [],
        [got_next] if got_next else [],
        lambda w, g: contains(g, w),
        "next_meeting",
        no,
    )
    return out


def hedged_overwrites(expected: dict[str, Any], updated_deal: dict[str, Any]) -> list[str]:
    """Expected hedged values that were written into the updated deal (must be none)."""
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(updated_deal)
    return [h["value"] for h in expected.get("hedged", []) if any(contains(t, h["value"]) for t in texts)]
