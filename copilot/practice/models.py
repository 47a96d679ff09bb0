"""Typed results of a role-play: the turns, the scorecard (items 0-10 with evidence quotes), the session."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from copilot.results import Model, SkillResult

Move = Literal[
    "opening", "objection", "jargon", "no_proof", "vague_value", "good_answer", "ask_next_step", "closing", "rep"
]
ItemKey = Literal["discovery", "value", "jargon", "proof", "honesty", "next_step"]
ITEM_KEYS: tuple[ItemKey, ...] = ("discovery", "value", "jargon", "proof", "honesty", "next_step")


class Turn(Model):
    role: Literal["buyer", "rep"]
    text: str
    moves: list[Move] = Field(default_factory=list, description="what the buyer's line does (rep: ['rep'])")
    concern: str | None = Field(default=None, description="the concern of the objection raised or pursued")
    voiced_by: Literal["offline", "llm"] = "offline"


class ScoreItem(Model):
    key: ItemKey
    label: str
    score: int = Field(ge=0, le=10)
    reason: str
    evidence: list[str] = Field(default_factory=list, description="quotes from the rep's turns")


class Scorecard(Model):
    items: list[ScoreItem]
    overall: float = Field(ge=0.0, le=10.0, description="the mean of the items, decided by code")
    verdict: str

    def score(self, key: ItemKey) -> int:
        return next(i.score for i in self.items if i.key == key)


class RoleplayResult(SkillResult):
    skill: Literal["roleplay"] = "roleplay"
    persona: str
    persona_title: str
    customer: str
    turns: list[Turn] = Field(default_factory=list)
    scorecard: Scorecard
    finished: bool = Field(description="the buyer gave a closing line (every planned objection was raised)")
