"""A constraint typed in a chat message ("他们要求等保三级", "budget is capped at EUR 2m") picked up into the deal.

Only a statement (not a question) that the constraint classifier reads as budget, timeline, compliance
or data residency with confidence, and whose value is read too (an amount, months or a date, a known
regime, a boundary), is taken: a question about 等保 is not a requirement. The deal gains the sentence
under its kind (a budget or timeline replaces the previous one); the chat shows it in the deal panel.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from copilot.deal import Constraints, Deal
from copilot.reading.build import CONSTRAINTS_SET, KnowledgeBase, parse_constraints
from copilot.reading.model import ParsedConstraint

MIN_CONFIDENCE = 0.45
"""The classifier's own "unsure" line: a stated requirement also needs its value read (amount, regime…)."""
MAX_CHARS = 200
DATA = Path(__file__).resolve().parent / "data" / "pickup.yaml"


@cache
def _question() -> re.Pattern[str]:
    """What makes a message a question (data/pickup.yaml)."""
    return re.compile(yaml.safe_load(DATA.read_text(encoding="utf-8"))["question"], re.IGNORECASE)


def _has_value(pc: ParsedConstraint) -> bool:
    return {
        "budget": pc.money is not None,
        "timeline": pc.months is not None or pc.date is not None,
        "compliance": pc.regime is not None,
        "data_residency": pc.boundary is not None,
    }.get(pc.kind, False)


def constraint_in_message(message: str, deal: Deal, kb: KnowledgeBase) -> tuple[Deal, ParsedConstraint] | None:
    """The deal with the message's constraint added, and the constraint; None when the message states none."""
    text = " ".join(message.split())
    if not text or len(text) > MAX_CHARS or _question().search(text) or text in deal.constraints.texts():
        return None
    probe = deal.model_copy(update={"constraints": Constraints(sentences=[text])})
    (pc,) = parse_constraints(probe, kb)
    if pc.kind == "other" or pc.confidence < MIN_CONFIDENCE or not _has_value(pc):
        return None
    old = deal.constraints
    if pc.kind in ("budget", "timeline"):
        constraints = old.model_copy(update={pc.kind: text})
    else:
        constraints = old.model_copy(update={pc.kind: [*getattr(old, pc.kind), text]})
    return deal.model_copy(update={"constraints": constraints}), pc


__all__ = ["CONSTRAINTS_SET", "constraint_in_message"]
