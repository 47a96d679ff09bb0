"""Typed results of the negotiation plan: the opening, the offer ladder, the walk-away lines, trades, options.

Every number here is decided by copilot.skills.negotiate_rules from the deal's `negotiation`
section; a model may only write `narration`, which is checked against these numbers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from copilot.results import Model, SkillResult


class Anchor(Model):
    """What backs an opening position: a cited case passage or the vendor profile (no new number)."""

    kind: Literal["case", "vendor_reference", "vendor_pricing"]
    text: str
    doc_id: str | None = Field(default=None, description="the cited document, for a case anchor")


class Opening(Model):
    issue: str
    unit: str
    value: float
    target: float
    walk_away: float
    better: Literal["up", "down"]
    their_position: float | None = None
    priority: int
    their_priority: int | None = None
    role: Literal["concede", "hold", "settled", "fixed"] = Field(
        description="concede: a currency we trade; hold: kept at target and asked for in return; "
        "settled: their position already meets our target; fixed: target equals walk-away"
    )
    reason: str
    anchor: Anchor | None = None


class Move(Model):
    """One concession on one issue in one step: from → to (both inside target..walk-away)."""

    issue: str
    unit: str
    from_value: float
    to_value: float


class LadderStep(Model):
    step: int = Field(ge=0, description="0 is the opening package")
    values: dict[str, float] = Field(description="our offer on every issue at this step")
    moves: list[Move] = Field(default_factory=list)
    gives: list[str] = Field(default_factory=list, description="non-numeric things we give (tradeables)")
    gets: list[str] = Field(default_factory=list, description="what we ask in return for this step's concessions")
    summary: str = ""


class WalkAwayLine(Model):
    issue: str
    unit: str
    value: float
    better: Literal["up", "down"]
    action: str


class Trade(Model):
    give: str
    get: str
    cost_to_us: Literal["low", "medium", "high"]
    value_to_them: Literal["low", "medium", "high"]
    rank: int
    note: str


class SharedRiskOption(Model):
    key: Literal["pilot_then_scale", "milestone_payments", "joint_kpi_reviews"]
    title: str
    how: str
    doc_id: str | None = None


class NegotiationResult(SkillResult):
    skill: Literal["negotiate"] = "negotiate"
    customer: str
    has_negotiation: bool = True
    missing: str = Field(default="", description="what to add to the deal when it has no negotiation section")
    openings: list[Opening] = Field(default_factory=list)
    ladder: list[LadderStep] = Field(default_factory=list)
    walk_away: list[WalkAwayLine] = Field(default_factory=list)
    trade_first: list[Trade] = Field(default_factory=list)
    shared_risk: list[SharedRiskOption] = Field(default_factory=list)
    alternative: str | None = Field(default=None, description="our alternative if no deal (from the deal)")
    narration: str = ""
    violations: list[str] = Field(default_factory=list, description="rule checks on the ladder: empty when sound")
