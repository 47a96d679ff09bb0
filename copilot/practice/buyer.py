"""The buyer's side of a role-play: which objections to raise, and the next move after each rep turn.

Offline, every line is a persona line (prompts/personas/<key>.yaml). The move is decided here by
code in both modes: a jargon-heavy answer gets the jargon follow-up, a claim without proof gets
"who has done this?", a vague answer gets the vague-value follow-up, anything else moves on to the
next objection (acknowledged when the answer was good); after the last one the buyer asks for the
next step (unless the rep already proposed one) and then closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copilot.deal import Deal
from copilot.knowledge import KnowledgeBase, KnowledgeError
from copilot.practice.models import Move
from copilot.practice.persona import Persona, PersonaObjection
from copilot.practice.signals import TurnSignals

STAGE_POSITION = {"discovery": 0.0, "proposal": 1 / 3, "negotiation": 2 / 3, "closing": 1.0}
RELEVANT_BONUS = 0.35
CONCERN_RANK_WEIGHT = 0.02
MAX_FOLLOW_UPS = 2
"""Follow-ups on one objection before the buyer moves on, whatever the answer."""
REGIONAL_CONCERNS = ("regulatory_compliance", "privacy_confidentiality")


def scenario_concerns(kb: KnowledgeBase, scenario: str) -> set[str]:
    """The concerns of the scenario playbook's objections, read by the shared objection classifier."""
    cache: dict[str, set[str]] = kb.__dict__.setdefault("_practice_scenario_concerns", {})
    if scenario not in cache:
        try:
            objections = kb.playbook(scenario).objections
        except KnowledgeError:
            objections = []
        labels = set()
        for objection in objections:
            found = kb.understanding.classify("objections", objection.objection.en)
            if not found.unsure:
                labels.add(found.label)
        cache[scenario] = labels
    return set(cache[scenario])


def plan_objections(
    kb: KnowledgeBase, persona: Persona, deal: Deal, regional: bool, count: int
) -> list[PersonaObjection]:
    """`count` of the persona's objections that fit the deal's stage, scenario and region, in the persona's order.

    The persona lists objections from early meeting to closing; the stage picks where to read from.
    Concerns of the scenario's playbook, and regulatory/privacy concerns when the deal's region or
    constraints bring a regime, are preferred; the persona's own concern order breaks ties.
    """
    items = persona.objections
    last = max(len(items) - 1, 1)
    position = STAGE_POSITION[deal.stage]
    relevant = scenario_concerns(kb, deal.scenario) | (set(REGIONAL_CONCERNS) if regional else set())

    def rank(index: int) -> float:
        concern = items[index].concern
        order = persona.concerns.index(concern) if concern in persona.concerns else len(persona.concerns)
        bonus = RELEVANT_BONUS if concern in relevant else 0.0
        return abs(index / last - position) - bonus + CONCERN_RANK_WEIGHT * order

    chosen: list[int] = []
    for index in sorted(range(len(items)), key=rank):
        if len(chosen) == count:
            break
        if all(items[i].concern != items[index].concern for i in chosen) or len(items) - len(chosen) <= count:
            chosen.append(index)
    for index in sorted(range(len(items)), key=rank):  # fewer distinct concerns than `count`
        if len(chosen) < count and index not in chosen:
            chosen.append(index)
    return [items[i] for i in sorted(chosen)]


@dataclass
class Reaction:
    moves: list[Move]
    lines: list[str]
    concern: str | None = None
    closing: bool = False


class BuyerMoves:
    """The offline buyer: the objection plan, follow-ups used so far, and which variant comes next."""

    def __init__(self, persona: Persona, plan: Sequence[PersonaObjection], lang: str, ask_next_step: str) -> None:
        self.persona = persona
        self.ask_next_step = ask_next_step
        self.asked_next_step = False
        self.plan = list(plan)
        self.lang = lang
        self.current = -1  # -1: the opening; then the index of the objection being discussed
        self.used: list[str] = []
        self.counters: dict[str, int] = {}

    def _variant(self, kind: str, options: Sequence[object]) -> int:
        index = self.counters.get(kind, 0)
        self.counters[kind] = index + 1
        return index % len(options)

    def opening(self) -> Reaction:
        lines = self.persona.opening_lines
        return Reaction(["opening"], [lines[self._variant("opening", lines)](self.lang)])

    def react(self, signals: TurnSignals, positive_close: bool) -> Reaction:
        checks: list[tuple[Move, bool]] = [
            ("jargon", bool(signals.jargon)),
            ("no_proof", signals.claims and not signals.proof and not signals.fit_limits),
            ("vague_value", signals.vague),
        ]
        for kind, applies in checks:
            if applies and kind not in self.used and len(self.used) < MAX_FOLLOW_UPS:
                self.used.append(kind)
                options = self.persona.follow_ups.of(kind)  # type: ignore[arg-type]
                concern = self.plan[self.current].concern if 0 <= self.current < len(self.plan) else None
                return Reaction([kind], [options[self._variant(kind, options)](self.lang)], concern)
        good = not (signals.jargon or signals.vague or (signals.claims and not signals.proof))
        moves: list[Move] = []
        lines: list[str] = []
        if good and self.current >= 0:
            options = self.persona.follow_ups.good_answer
            moves.append("good_answer")
            lines.append(options[self._variant("good_answer", options)](self.lang))
        if self.current < len(self.plan):
            self.current += 1
            self.used = []
        if self.current < len(self.plan):
            objection = self.plan[self.current]
            return Reaction([*moves, "objection"], [*lines, objection.text(self.lang)], objection.concern)
        if not signals.next_steps and not self.asked_next_step:
            self.asked_next_step = True
            return Reaction([*moves, "ask_next_step"], [*lines, self.ask_next_step])
        closing = self.persona.closing_lines.positive if positive_close else self.persona.closing_lines.negative
        tone = "positive" if positive_close else "negative"
        return Reaction([*moves, "closing"], [*lines, closing[self._variant(tone, closing)](self.lang)], closing=True)
