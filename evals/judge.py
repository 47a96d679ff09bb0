"""Optional model judge: a rubric score per output, and a pairwise A/B comparison of two outputs.

Prompts are files (prompts/judge.<lang>.md, prompts/judge_pairwise.<lang>.md):
a case is judged in its own language, so a Chinese answer is judged by a
Chinese rubric. The judge's reply must be one JSON object that validates
against `RubricVerdict` / `PairwiseVerdict`; anything else (endpoint failure,
no JSON, a missing or out-of-range score) is a judge failure: reported with
its reason, never counted as a score.

Pairwise mode shows the two answers in an order drawn from a seeded random
generator per comparison key, so position bias averages out while reruns stay
reproducible.

Personal data in what is judged (the task carries the deal, the answers may
quote contacts) is replaced with placeholders before the prompt leaves, like
every copilot request (copilot.privacy; `redact` defaults to the judge
endpoint's `redact_pii` decision), and put back in the rationale.

The model is any langchain chat model (copilot.llm.model.get_chat_model, or the
scripted fake in tests); langchain is imported lazily.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.llm.failures import classify, reason
from copilot.llm.runner import RetryPolicy
from copilot.llm.usage import UsageMeter, load_prices
from copilot.privacy import Redactor, redaction_enabled
from copilot.prompts import render_prompt
from copilot.settings import Settings
from evals.models import JudgeScore, UsageInfo

V = TypeVar("V", bound=BaseModel)
CRITERIA = ("grounded", "relevant", "clear", "honest", "actionable")
MAX_ANSWER_CHARS = 12000
_TRUNCATED = {"zh": "\n（以下内容过长，已截断）", "en": "\n(the rest is cut: too long to judge)"}
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


class RubricVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    grounded: int = Field(ge=1, le=5)
    relevant: int = Field(ge=1, le=5)
    clear: int = Field(ge=1, le=5)
    honest: int = Field(ge=1, le=5)
    actionable: int = Field(ge=1, le=5)
    overall: int = Field(ge=1, le=5)
    rationale: str = Field(min_length=1)

    @property
    def normalised(self) -> float:
        return (self.overall - 1) / 4


class PairwiseVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    winner: Literal["1", "2", "tie"]
    rationale: str = Field(min_length=1)

    @field_validator("winner", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value).strip().lower() if isinstance(value, int | str) else value


class PairwiseResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    lang: str
    swapped: bool = Field(description="answer B was shown first")
    winner: Literal["a", "b", "tie"] | None = None
    rationale: str = ""
    error: str | None = None
    usage: UsageInfo = Field(default_factory=UsageInfo)


class JudgeFailure(Exception):
    """The judge gave no usable verdict; the message says why (never the API key or server text)."""


def extract_json(text: str) -> str:
    """The JSON object in a reply that may wrap it in a code fence or a sentence."""
    stripped = _FENCE.sub("", text.strip())
    start, end = stripped.find("{"), stripped.rfind("}")
    if start < 0 or end < start:
        raise JudgeFailure("invalid_output: the reply holds no JSON object")
    return stripped[start : end + 1]


def parse_verdict(text: str, model: type[V]) -> V:
    raw = extract_json(text)
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        raise JudgeFailure(f"invalid_output: the reply is not valid JSON ({exc.msg})") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "verdict"
        raise JudgeFailure(f"invalid_output: {where}: {err['msg']}") from None


def pair_order(seed: int, key: str) -> bool:
    """Whether to show answer B first for comparison `key` (seeded, so reruns show the same order)."""
    return random.Random(f"{seed}:{key}").random() < 0.5


@dataclass
class Judge:
    model: Any
    settings: Settings
    seed: int = 0
    temperature: float | None = 0.0
    max_answer_chars: int = MAX_ANSWER_CHARS
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prompt_hook: Callable[[str], None] | None = None
    redact: bool | None = None
    """Replace personal data before the prompt is sent; None: `redaction_enabled(settings)` (the judge's endpoint)."""

    def __post_init__(self) -> None:
        if self.redact is None:
            self.redact = redaction_enabled(self.settings)

    # -- calls ------------------------------------------------------------------------------------
    def _ask(self, prompt: str) -> tuple[str, UsageInfo]:
        redactor = Redactor() if self.redact else None
        if redactor is not None:
            prompt = redactor.redact(prompt)
        text, info = self._send(prompt)
        return (redactor.restore(text) if redactor is not None else text), info

    def _send(self, prompt: str) -> tuple[str, UsageInfo]:
        from langchain_core.messages import HumanMessage

        if self.prompt_hook is not None:
            self.prompt_hook(prompt)
        name = self.settings.model or getattr(self.model, "model_name", None)
        meter = UsageMeter(name, load_prices(self.settings), self.settings.tokenizer_encoding)
        params: dict[str, Any] = {} if self.temperature is None else {"temperature": self.temperature}
        attempt = 0
        while True:
            try:
                reply = self.model.invoke([HumanMessage(content=prompt)], **params)
                break
            except Exception as exc:
                failure = classify(exc)
                delay = self.retry.delay(attempt, failure) if failure.retryable else None
                if attempt >= self.settings.max_retries or delay is None:
                    raise JudgeFailure(f"{failure.kind}: {reason(failure, 'en')}") from None
                self.retry.sleep(delay)
                attempt += 1
        text = str(reply.text)
        meter.record([prompt], reply, text)
        usage = meter.usage()
        info = UsageInfo(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            model=usage.model,
        )
        return text, info

    def _clip(self, answer: str, lang: str) -> str:
        if len(answer) <= self.max_answer_chars:
            return answer
        return answer[: self.max_answer_chars] + _TRUNCATED.get(lang, _TRUNCATED["en"])

    # -- rubric -----------------------------------------------------------------------------------
    def score(self, *, skill: str, lang: str, task: str, answer: str) -> JudgeScore:
        lang = lang if lang in ("zh", "en") else "en"
        prompt = render_prompt("judge", lang, {"task": task, "answer": self._clip(answer, lang)})
        usage = UsageInfo()
        try:
            text, usage = self._ask(prompt)
            verdict = parse_verdict(text, RubricVerdict)
        except JudgeFailure as exc:
            return JudgeScore(skill=skill, lang=lang, error=str(exc), usage=usage)
        criteria = {name: int(getattr(verdict, name)) for name in (*CRITERIA, "overall")}
        return JudgeScore(
            skill=skill,
            lang=lang,
            overall=round(verdict.normalised, 4),
            criteria=criteria,
            rationale=verdict.rationale,
            usage=usage,
        )

    # -- pairwise ---------------------------------------------------------------------------------
    def compare(self, *, key: str, lang: str, task: str, answer_a: str, answer_b: str) -> PairwiseResult:
        lang = lang if lang in ("zh", "en") else "en"
        swapped = pair_order(self.seed, key)
        first, second = (answer_b, answer_a) if swapped else (answer_a, answer_b)
        variables = {"task": task, "answer_1": self._clip(first, lang), "answer_2": self._clip(second, lang)}
        prompt = render_prompt("judge_pairwise", lang, variables)
        usage = UsageInfo()
        try:
            text, usage = self._ask(prompt)
            verdict = parse_verdict(text, PairwiseVerdict)
        except JudgeFailure as exc:
            return PairwiseResult(key=key, lang=lang, swapped=swapped, error=str(exc), usage=usage)
        winner: Literal["a", "b", "tie"] = "tie"
        if verdict.winner != "tie":
            shown_first = verdict.winner == "1"
            winner = "b" if shown_first == swapped else "a"
        return PairwiseResult(
            key=key, lang=lang, swapped=swapped, winner=winner, rationale=verdict.rationale, usage=usage
        )
