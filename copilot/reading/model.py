"""DealReading: the one typed reading of a deal, built once at the entry and passed to every skill.

A Deal is what the rep wrote (validated, nothing inferred). A DealReading is what a good sales
engineer reads into it before composing anything: the constraints parsed and classified (budget
amount and currency, timeline in months or a date, compliance regimes, data residency / network
boundary, other), the buyer's industry matched to a lexicon, the chain type, our vendor profile
and where it does not cover a need. Skills read these fields; they never re-derive them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.deal import ChainType, ConstraintKind, Deal
from copilot.reading.chains import LineMatcher
from copilot.reading.industry import Adapter
from copilot.vendor import VendorProfile

Source = Literal["declared", "classified"]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: float = Field(description="in units of the currency (RMB 3m -> 3000000)")
    currency: str = Field(description="ISO code: CNY, EUR, USD…")
    text: str = Field(description="the words it was read from, shown back to the rep")


class ParsedConstraint(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    kind: ConstraintKind
    source: Source = Field(description="declared: the rep gave the kind; classified: read from free text")
    confidence: float = 1.0
    money: Money | None = None
    months: int | None = Field(default=None, description="a timeline as a duration from now")
    date: str | None = Field(default=None, description="a timeline as a month, YYYY-MM")
    regime: str | None = Field(default=None, description="compliance regime key (corpus/regimes.yaml)")
    boundary: str | None = Field(default=None, description="data residency / network boundary key")
    excluded_regime: str | None = Field(
        default=None, description="a regime the rep says does not apply (named only in a negated clause): no risk item"
    )
    reason: str = ""


class IndustryMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    matched: str = Field(description="the words of the deal's industry that matched")


class VendorGap(BaseModel):
    """A need of the deal that the vendor profile does not cover."""

    model_config = ConfigDict(frozen=True)

    need: str
    kind: Literal["system", "constraint", "pain", "goal"]
    reason: str


class DealReading(BaseModel):
    model_config = ConfigDict(frozen=True)

    deal: Deal
    constraints: list[ParsedConstraint] = Field(default_factory=list)
    industry: IndustryMatch | None = None
    chain_type: ChainType
    chain_type_source: Literal["deal", "scenario"]
    vendor: VendorProfile | None = None
    vendor_gaps: list[VendorGap] = Field(default_factory=list)
    industry_swaps: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="per language: the playbook industry's terms -> the deal industry's"
    )
    industry_drops: dict[str, list[str]] = Field(
        default_factory=dict, description="per language: terms whose sentences are left out (no lexicon matched)"
    )

    @property
    def lang(self) -> str:
        return self.deal.lang

    def of_kind(self, kind: ConstraintKind) -> list[ParsedConstraint]:
        return [c for c in self.constraints if c.kind == kind]

    @property
    def budget(self) -> Money | None:
        return next((c.money for c in self.of_kind("budget") if c.money is not None), None)

    @property
    def timeline_months(self) -> int | None:
        return next((c.months for c in self.of_kind("timeline") if c.months is not None), None)

    @property
    def regimes(self) -> list[str]:
        return list(dict.fromkeys(c.regime for c in self.of_kind("compliance") if c.regime))

    def adapter(self, lang: str | None = None, lines: LineMatcher | None = None) -> Adapter:
        """Adapts the playbook's industry wording to this deal's industry (copilot.reading.industry); `lines`:
        copies of these corpus lines are left out too (copilot.reading.chains: another chain type's claims)."""
        lang = lang or self.lang
        deal = self.deal
        own = [
            deal.customer or "",
            deal.industry or "",
            *deal.pains,
            *deal.goals,
            *deal.systems,
            *deal.constraints.texts(),
        ]
        return Adapter(lang, self.industry_swaps.get(lang), self.industry_drops.get(lang, []), lines, own)

    def text(self) -> str:
        """Every word the rep gave (deal and vendor profile): numbers in it may be shown."""
        return self.deal.text() + ("\n" + self.vendor.text() if self.vendor else "")
