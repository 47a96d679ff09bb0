"""Schemas of corpus documents.

Markdown documents (case, policy, method) carry `DocMeta` as YAML front matter and
a body with a `## 中文` and a `## English` section. Structured documents
(glossary, risk, playbook) are YAML files holding a list of entries; every text
field of an entry is a `Bilingual` pair so the two languages cannot drift apart.
All models forbid unknown fields: a typo is an error, not silently ignored data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from copilot.vocabulary import CaseStatus, DocType, Owner, RegionKey, RiskCategory, ScenarioKey

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")]


AppliesTo = Literal["consortium", "public", "permissioned", "any"]
"""The chain types a glossary entry or playbook line is true of; "any" (the default) for all of them."""


class Bilingual(Strict):
    """The same statement in Chinese and English (a playbook line may say which chain types it is true of)."""

    zh: Text
    en: Text
    applies_to: list[AppliesTo] | None = Field(
        default=None, description="chain types this line is a claim about; None: any (copilot.reading.chains)"
    )

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class DocMeta(Strict):
    """Fields every document has, whether Markdown front matter or a YAML entry."""

    id: Slug
    type: DocType
    title_zh: Text
    title_en: Text
    scenarios: list[ScenarioKey] = Field(min_length=1)
    regions: list[RegionKey] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    updated: dt.date

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


class MarkdownMeta(DocMeta):
    """Front matter of a Markdown document (case, policy, method)."""

    type: Literal["case", "policy", "method"]
    status: CaseStatus | None = None
    confidence: Literal["A", "B", "C"] | None = None
    related: list[Slug] = Field(default_factory=list)


class GlossaryEntry(DocMeta):
    """One jargon term: title_zh / title_en are the term's names."""

    type: Literal["glossary"]
    aliases_zh: list[Text] = Field(default_factory=list)
    aliases_en: list[Text] = Field(default_factory=list)
    plain: Bilingual
    analogy: Bilingual
    outcome: Bilingual
    example: Bilingual
    avoid_when: Bilingual
    related_cases: list[Slug] = Field(default_factory=list)
    applies_to: list[AppliesTo] = Field(
        default_factory=lambda: list[AppliesTo](["any"]),
        min_length=1,
        description="chain types its outcome and example are true of",
    )

    def names(self) -> list[str]:
        """Every surface form of the term, both languages."""
        return [self.title_zh, self.title_en, *self.aliases_zh, *self.aliases_en]


class RiskEntry(DocMeta):
    type: Literal["risk"]
    category: RiskCategory
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    rises_in: list[ScenarioKey] = Field(default_factory=list)
    owner: Owner
    description: Bilingual
    signals: list[Bilingual] = Field(min_length=1)
    mitigations: list[Bilingual] = Field(min_length=1)
    evidence: list[Slug] = Field(min_length=1)


class Kpi(Strict):
    name: Bilingual
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    unit: Bilingual
    how_measured: Bilingual


class Phase(Strict):
    name: Bilingual
    start_month: int = Field(ge=1, le=60)
    end_month: int = Field(ge=1, le=60)
    deliverables: list[Bilingual] = Field(min_length=1)
    kpis: list[Kpi] = Field(min_length=1)
    buyer_tasks: list[Bilingual] = Field(min_length=1)
    vendor_tasks: list[Bilingual] = Field(min_length=1)

    @field_validator("end_month")
    @classmethod
    def _end_after_start(cls, v: int, info: object) -> int:
        start = getattr(info, "data", {}).get("start_month")
        if start is not None and v < start:
            raise ValueError(f"end_month {v} is before start_month {start}")
        return v


class ValueMetric(Strict):
    name: Bilingual
    unit: Bilingual
    direction: Literal["up", "down"]
    how_measured: Bilingual


class Objection(Strict):
    objection: Bilingual
    answer: Bilingual
    proof: list[Slug] = Field(min_length=1)


class FitCriteria(Strict):
    good_fit: list[Bilingual] = Field(min_length=1)
    poor_fit: list[Bilingual] = Field(min_length=1)
    alternative: Bilingual


class PlaybookEntry(DocMeta):
    type: Literal["playbook"]
    scenario: ScenarioKey
    pains: list[Bilingual] = Field(min_length=1)
    goals: list[Bilingual] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=3)
    value_metrics: list[ValueMetric] = Field(min_length=1)
    demo_script: list[Bilingual] = Field(min_length=3)
    objections: list[Objection] = Field(min_length=2)
    discovery_questions: list[Bilingual] = Field(min_length=3)
    fit: FitCriteria
    related_cases: list[Slug] = Field(default_factory=list)
    related_policies: list[Slug] = Field(default_factory=list)


StructuredEntry = GlossaryEntry | RiskEntry | PlaybookEntry

ENTRY_MODELS: dict[str, type[GlossaryEntry] | type[RiskEntry] | type[PlaybookEntry]] = {
    "glossary": GlossaryEntry,
    "risk": RiskEntry,
    "playbook": PlaybookEntry,
}


class Document(BaseModel):
    """A validated corpus document, whatever its file format.

    `sections` maps a language to the Markdown text of that language's part; for
    YAML entries it is rendered from the structured fields, so every document can
    be chunked and searched the same way.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    meta: DocMeta
    path: str
    line: int
    sections: dict[str, str]
    content_hash: str
    entry: GlossaryEntry | RiskEntry | PlaybookEntry | None = None

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def type(self) -> str:
        return self.meta.type
