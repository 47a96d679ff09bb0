"""Typed records of an eval run: one `CaseResult` per line of results.jsonl, one `RunSummary` per run.

Scores are in [0, 1]; a metric passes when it finds no problem. A case passes
when every metric of every skill it ran passes; it is an error when a skill
raised where no error was expected.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Suite = Literal["skills", "adversarial", "retrieval", "understanding", "negotiation", "fit", "roleplay", "recap"]
SUITES: tuple[Suite, ...] = (
    "skills",
    "adversarial",
    "retrieval",
    "understanding",
    "negotiation",
    "fit",
    "roleplay",
    "recap",
)
CaseStatus = Literal["pass", "fail", "error"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricResult(Record):
    name: str
    skill: str | None = None
    score: float = Field(ge=0.0, le=1.0)
    passed: bool
    problems: list[str] = Field(default_factory=list)


class ErrorInfo(Record):
    """An exception raised by the copilot: its type, the module that defines it, and its message."""

    type: str
    module: str
    message: str

    @property
    def from_core(self) -> bool:
        """Raised deliberately by the copilot (its own error type, with a message), not a crash."""
        return self.module.split(".")[0] == "copilot" and bool(self.message.strip())


class CitationRef(Record):
    doc_id: str
    chunk_id: str
    title: str


class UsageInfo(Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    model: str | None = None


class JudgeScore(Record):
    """The rubric judge's verdict on one output, or why the judge failed (never a score then)."""

    skill: str
    lang: str
    overall: float | None = Field(default=None, description="normalised to [0, 1]")
    criteria: dict[str, int] = Field(default_factory=dict)
    rationale: str = ""
    error: str | None = None
    usage: UsageInfo = Field(default_factory=UsageInfo)


class SkillOutput(Record):
    skill: str
    task: str = Field(default="", description="what the copilot was asked (shown to the judge)")
    mode: str | None = None
    language: str | None = None
    text: str = ""
    citations: list[CitationRef] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict, description="small structured facts for the report")
    usage: UsageInfo = Field(default_factory=UsageInfo)
    latency_ms: float = 0.0
    error: ErrorInfo | None = None


class CaseResult(Record):
    case_id: str
    suite: Suite
    index: int = Field(description="position in the dataset: results are reported in this order")
    lang: str | None = None
    scenario: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    status: CaseStatus
    metrics: list[MetricResult] = Field(default_factory=list)
    outputs: list[SkillOutput] = Field(default_factory=list)
    judge: list[JudgeScore] = Field(default_factory=list)
    model_calls: int = 0
    cache_hits: int = 0
    error: str | None = None

    def failed_metrics(self) -> list[MetricResult]:
        return [m for m in self.metrics if not m.passed]


class MetricSummary(Record):
    mean: float
    pass_rate: float
    n: int


class LatencySummary(Record):
    p50: float | None = None
    p95: float | None = None
    n: int = 0


class JudgeSummary(Record):
    judged: int = 0
    failures: int = 0
    overall: float | None = None
    criteria: dict[str, float] = Field(default_factory=dict)
    failure_messages: list[str] = Field(default_factory=list)


class RunSummary(Record):
    run_id: str
    suite: Suite
    dataset: str
    dataset_sha256: str
    provider: str
    judge_provider: str | None = None
    seed: int
    cases: int
    passed: int
    failed: int
    errors: int
    case_pass_rate: float
    metrics: dict[str, MetricSummary]
    latency_ms: LatencySummary
    latency_by_skill: dict[str, LatencySummary] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    cache_hits: int = 0
    modes: dict[str, int] = Field(default_factory=dict)
    judge: JudgeSummary = Field(default_factory=JudgeSummary)
    slices: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="retrieval or fit metrics by slice (language, hard-case tag…)"
    )
    wall_time_s: float = 0.0
