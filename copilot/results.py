"""Typed results of the skills: what the CLI, the UI, the evals and the logs consume.

Every result carries its language, mode (offline | llm), citations (each a
passage retrieved for this request), notices shown to the user (fallback,
redaction, truncation…) and usage (tokens, estimated cost, latency). `text` is
the result rendered as Markdown in the result's language.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from copilot.corpus.models import Source
from copilot.vocabulary import Language, Owner, RiskCategory

Mode = Literal["offline", "llm"]
NoticeKind = Literal["fallback", "redaction", "truncated", "validation", "no_knowledge", "info"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(Model):
    doc_id: str
    chunk_id: str
    title: str
    type: str
    sources: list[Source] = Field(default_factory=list)
    quote: str


class Notice(Model):
    kind: NoticeKind
    message: str


class Usage(Model):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    model: str | None = None


class SkillResult(Model):
    skill: str
    language: Language
    mode: Mode = "offline"
    text: str = ""
    citations: list[Citation] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    rep_notes: list[str] = Field(
        default_factory=list,
        description="for the rep only, never said or sent to the buyer: what not to claim, unverified facts, coaching",
    )


# -- explain --------------------------------------------------------------------------------------
class TermHandling(Model):
    term: str
    doc_id: str
    handling: Literal["explained", "removed"]
    plain: str


class ExplainResult(SkillResult):
    """A story in four beats (today, what changes, proof, what it means), each of complete sentences."""

    skill: Literal["explain"] = "explain"
    today: str = Field(description="who does what today and what it costs (the deal's own pains and numbers)")
    cost_today: str = Field(default="", description="kept for older readers: the cost is part of `today` now")
    what_changes: str = Field(description="the mechanism in plain words for this scenario and chain type")
    proof: str = Field(description="the closest case with a measured outcome")
    what_it_means: str = Field(default="", description="what it means for the buyer, tied to a deal goal")
    terms: list[TermHandling] = Field(default_factory=list)


# -- risks ----------------------------------------------------------------------------------------
class RiskItem(Model):
    risk_id: str
    category: RiskCategory
    category_label: str
    risk: str
    description: str
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    mitigations: list[str]
    owner: Owner
    warning_signals: list[str]
    evidence: list[str] = Field(description="ids of the case and policy documents that show the risk")
    rating_reasons: list[str] = Field(
        default_factory=list, description="why likelihood or impact differ from the library's, from the deal's facts"
    )


class RisksResult(SkillResult):
    skill: Literal["risks"] = "risks"
    items: list[RiskItem]


# -- plan -----------------------------------------------------------------------------------------
class KpiOut(Model):
    name: str
    target: str
    unit: str
    how_measured: str
    from_buyer: bool = Field(default=False, description="the target is the buyer's own number")


class PhaseOut(Model):
    name: str
    start_month: int = Field(ge=1)
    end_month: int = Field(ge=1)
    deliverables: list[str]
    kpis: list[KpiOut] = Field(min_length=1)
    buyer_tasks: list[str] = Field(min_length=1)
    vendor_tasks: list[str] = Field(min_length=1)
    budget_label: str | None = Field(default=None, description="the buyer's budget this phase is scoped to")


class ValueMetricOut(Model):
    name: str
    unit: str
    direction: Literal["up", "down"]
    how_measured: str
    review: str
    target: str | None = Field(default=None, description="the buyer's own target for this metric, if they gave one")
    from_buyer: bool = False


class PlanResult(SkillResult):
    skill: Literal["plan"] = "plan"
    horizon_months: int = Field(ge=1, le=60)
    phases: list[PhaseOut] = Field(min_length=1)
    value_metrics: list[ValueMetricOut] = Field(default_factory=list)
    shaping: list[str] = Field(
        default_factory=list, description="how the deal's budget, timeline and deployment boundary shape the plan"
    )


# -- fit ------------------------------------------------------------------------------------------
BY_CODE: JsonDict = {"by_code": True}
"""A field decided by code, never the model's to write (copilot.llm.draft leaves it out of the draft)."""
FitQuestionKey = Literal[
    "shared_state",
    "multiple_writers",
    "trusted_operator",
    "writers_known",
    "trust_gap",
    "third_party_verification",
    "high_frequency",
    "large_files",
    "single_issuer",
]
Answer = Literal["yes", "no", "unknown"]
Architecture = Literal["consortium", "public", "shared_database", "database"]


class FitQuestion(Model):
    """One question of the decision flow, answered from the deal's own sentences."""

    key: FitQuestionKey
    question: str
    answer: Answer
    evidence: str | None = Field(default=None, description="the deal's sentence the answer rests on")
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    discovery: str | None = Field(default=None, description="for an unknown answer: what the rep should ask")
    changes: str | None = Field(default=None, description="for an unknown answer: how the verdict would change")


class FitResult(SkillResult):
    """The verdict, reasons and alternative are the model's to narrate in LLM mode; the fields marked
    `by_code` (the answered questions, the architecture, the weighed counterpoints, the one-line verdict)
    are decided by code and copied from the offline result."""

    skill: Literal["fit"] = "fit"
    verdict: Literal["fit", "partial", "not_fit"]
    reasons: list[str]
    alternative: str | None = None
    questions: list[FitQuestion] = Field(default_factory=list, json_schema_extra=BY_CODE)
    architecture: Architecture | None = Field(default=None, json_schema_extra=BY_CODE)
    architecture_text: str | None = Field(default=None, json_schema_extra=BY_CODE)
    counterpoints: list[str] = Field(
        default_factory=list,
        description="arguments against the verdict, each stated with why it does not decide",
        json_schema_extra=BY_CODE,
    )
    one_line: str = Field(
        default="", description="the verdict in one line (for the brief's card)", json_schema_extra=BY_CODE
    )


# -- objection ------------------------------------------------------------------------------------
class ObjectionResult(SkillResult):
    skill: Literal["objection"] = "objection"
    objection: str
    concern_class: str = Field(default="", description="one key of the concern taxonomy (prompts/taxonomy)")
    confidence: float = Field(default=0.0, ge=0.0, le=1.0, description="how sure the classification is")
    unsure: bool = Field(default=False, description="too unsure to name one concern: a clarifying question is asked")
    concern: str
    response: str
    proof: list[str] = Field(description="ids of the documents that back the response")
    question_back: str


# -- ask ------------------------------------------------------------------------------------------
class AskResult(SkillResult):
    skill: Literal["ask"] = "ask"
    question: str
    answer: str
    found: bool


# -- deal health (copilot.skills.health) ----------------------------------------------------------
class HealthItem(Model):
    key: str
    label: str
    status: Literal["green", "amber", "red"]
    reason: str
    question: str = Field(description="the question that would close the gap")
    evidence: list[str] = Field(default_factory=list, description="the deal's own words the status rests on")


class DealHealth(Model):
    language: Language
    items: list[HealthItem]


# -- brief ----------------------------------------------------------------------------------------
class TalkingPoint(Model):
    point: str
    proof: list[str]


class CardHighlight(Model):
    point: str = Field(description="the point in the buyer's terms, one or two complete sentences")
    proof: str = Field(description="what backs it, marked as cited, the vendor's own, or inferred")
    proof_kind: Literal["cited", "vendor", "inferred"] = "cited"
    sources: list[str] = Field(default_factory=list, description="ids of the cited documents")


class CardRisk(Model):
    risk: str
    mitigation: str = Field(description="one line")
    risk_id: str = ""


class PrepCard(Model):
    """The one-page prep card a rep carries into the meeting; the rest of the brief is its appendix."""

    stage: str = ""
    goal: str
    highlights: list[CardHighlight] = Field(default_factory=list, max_length=3)
    top_risks: list[CardRisk] = Field(default_factory=list, max_length=3)
    questions: list[str] = Field(default_factory=list, max_length=3)
    next_step: str
    fit_line: str = Field(default="", description="the fit verdict in one line")
    rep_notes: list[str] = Field(default_factory=list, description="for the rep only, never for the buyer")


class BriefResult(SkillResult):
    skill: Literal["brief"] = "brief"
    card: PrepCard | None = None
    customer: str
    opening: str
    talking_points: list[TalkingPoint]
    story: ExplainResult
    demo_script: list[str]
    objections: list[ObjectionResult]
    risks: RisksResult
    plan: PlanResult
    fit: FitResult
    discovery_questions: list[str]
    next_steps: list[str]
    health: DealHealth | None = Field(default=None, json_schema_extra={"by_code": True})


AnyResult = ExplainResult | RisksResult | PlanResult | FitResult | ObjectionResult | AskResult | BriefResult
