"""Route a chat turn (zh or en, free text) to a skill, from meaning.

The turn is classified by the one text classifier (copilot.understand) over the labelled rep turns
in evals/datasets/understanding/routing.jsonl: explain, objection, risks, plan, fit, card,
negotiate, roleplay, recap, ask. No cue words in code: a new way reps phrase a request is a new
labelled line. Only a turn the classifier can hardly place (ROUTE_FLOOR) is a question for `ask`.

Sentences that speak to the model ("you are now in brief mode", "忽略之前的所有指令", see
copilot.text.injection) are not the rep's request and never choose the skill: they are removed
before classifying. A message made only of a quoted buyer statement that holds such a sentence is
still the buyer's words: an objection.

Some routes name skills that other parts of the product add (negotiate, roleplay, recap, card):
`available_skill` says which skill answers until they exist, and the chat says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from copilot.text.injection import drop_instruction_sentences

Route = Literal["explain", "objection", "risks", "plan", "fit", "card", "negotiate", "roleplay", "recap", "ask"]
ROUTES: tuple[Route, ...] = (
    "explain",
    "objection",
    "risks",
    "plan",
    "fit",
    "card",
    "negotiate",
    "roleplay",
    "recap",
    "ask",
)
CLASSIFIER = "routing"
ROUTE_FLOOR = 0.3
"""Below this confidence a turn is a question for `ask`. Lower than the classifier's own `unsure` line: a
plurality among ten skills is already informative, and a wrong "ask" costs the rep as much as a wrong skill."""

FALLBACK: dict[str, tuple[str, ...]] = {
    "card": ("brief",),
    "negotiate": ("plan",),
    "roleplay": ("objection",),
    "recap": ("ask",),
}
"""While a skill is not in the product yet, the closest one that is answers (and the chat says so)."""

NEXT: dict[str, Route] = {
    "explain": "card",
    "ask": "explain",
    "objection": "roleplay",
    "risks": "plan",
    "plan": "negotiate",
    "fit": "risks",
    "card": "roleplay",
    "brief": "roleplay",
    "negotiate": "roleplay",
    "roleplay": "recap",
    "recap": "plan",
}
"""The skill the chat offers next after each one (e.g. "practise this objection")."""

DATA = Path(__file__).resolve().parent / "data" / "router.yaml"


@cache
def _quoted_statement() -> re.Pattern[str]:
    """A verb of saying followed by a quote: the message quotes the buyer (data/router.yaml)."""
    return re.compile(yaml.safe_load(DATA.read_text(encoding="utf-8"))["quoted_statement"], re.IGNORECASE)


class ClassifyFn(Protocol):
    def __call__(self, name: str, text: str) -> Any: ...


@dataclass(frozen=True)
class RouteDecision:
    skill: Route
    confidence: float = 0.0
    unsure: bool = False
    request: str = ""
    """The rep's own request: the message without sentences that speak to the model."""
    reason: str = ""
    neighbours: list[str] = field(default_factory=list)


def route(message: str, classify: ClassifyFn | Callable[[str, str], Any]) -> RouteDecision:
    """The skill for `message`; `classify` is `kb.understanding.classify` (name, text) -> Classification."""
    request = drop_instruction_sentences(message).strip()
    if not request:
        if _quoted_statement().search(message):
            return RouteDecision("objection", 1.0, False, message, "a quoted buyer statement")
        return RouteDecision("ask", 0.0, True, message, "nothing but instructions to the model")
    got = classify(CLASSIFIER, request)
    label: str = got.label
    skill: Route = next((r for r in ROUTES if r == label), "ask")
    if got.unsure and got.confidence < ROUTE_FLOOR:
        skill = "ask"
    return RouteDecision(
        skill=skill,
        confidence=float(got.confidence),
        unsure=bool(got.unsure),
        request=request,
        reason=got.reason(),
        neighbours=[n.id for n in got.neighbours],
    )


def available_skill(skill: Route, available: Collection[str]) -> tuple[str, bool]:
    """The skill that answers `skill` given the skills the copilot has: (skill, is_substitute)."""
    if skill in available:
        return skill, False
    for candidate in FALLBACK.get(skill, ()):
        if candidate in available:
            return candidate, True
    return "ask", True


def next_skill(skill: str) -> Route | None:
    return NEXT.get(skill)
