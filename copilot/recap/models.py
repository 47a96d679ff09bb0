"""Typed results of a recap: extracted items with confidence, the deal changes, the follow-up email."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from copilot.results import Model, SkillResult

FIRM = 0.9
CUED = 0.7
HEDGED = 0.3


class Item(Model):
    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    line: int = Field(description="line of the notes it was read from (1-based)")


class Stakeholder(Model):
    name: str
    role: str | None = None
    confidence: float = Field(default=CUED, ge=0.0, le=1.0)
    line: int


class RaisedObjection(Item):
    concern: str | None = Field(default=None, description="one of the 12 concern keys (shared classifier)")


class Commitment(Item):
    owner: str | None = None
    action: str
    due: str | None = None


class HedgedValue(Item):
    field: str = Field(description="budget, timeline, pains, goals or constraints")


class DealChange(Model):
    field: str
    change: Literal["added", "replaced"]
    before: str | None = None
    after: str


class RecapResult(SkillResult):
    skill: Literal["recap"] = "recap"
    customer: str
    decisions: list[Item] = Field(default_factory=list)
    pains: list[Item] = Field(default_factory=list)
    goals: list[Item] = Field(default_factory=list)
    constraints: list[Item] = Field(default_factory=list)
    stakeholders: list[Stakeholder] = Field(default_factory=list)
    objections: list[RaisedObjection] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    open_questions: list[Item] = Field(default_factory=list)
    next_meeting: Item | None = None
    hedged: list[HedgedValue] = Field(default_factory=list)
    changes: list[DealChange] = Field(default_factory=list)
    updated_deal: dict[str, Any] = Field(default_factory=dict, description="the proposed new deal (not yet saved)")
    email: str = Field(default="", description="the follow-up email to the buyer, customer-facing wording only")
    saved_version: int | None = None
