"""The `fit` suite: the fit check's decision flow against labelled deals (evals/datasets/fit_deals.yaml).

Each case is a deal with the expected verdict, architecture and answer to each of the nine
questions (copilot.skills.fit_questions). The copilot's `fit` runs on the deal through its public
API; the case is scored on

    fit_verdict        the verdict is the expected one
    fit_questions      the share of the nine answers that are the expected ones
    fit_architecture   the recommended architecture (or alternative) is the expected one
    fit_consistency    the verdict and the reasons do not contradict each other (0 contradictions)
    fit_evidence       every answer's evidence is a sentence of the deal

plus the grounding metrics every result must pass (citations, numbers, language, length).
Slices (zh, en, and each hard-case tag) report verdict and question accuracy.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from copilot.deal import Deal
from copilot.results import Answer, Architecture, FitQuestionKey, FitResult
from copilot.skills.fit_questions import CLASSIFIER, contradictions
from copilot.vocabulary import Language
from evals import metrics
from evals.cases import DEFAULT_MAX_CHARS, Strict, _load
from evals.execute import Engine, _calls, _judge, _start, _status, call_skill, grounding_metrics, skill_output
from evals.execute import task_description as describe
from evals.models import CaseResult, MetricResult

HardTag = Literal[
    "negation",
    "paraphrase",
    "dominant_platform",
    "trusted_operator",
    "latency",
    "big_files",
    "single_issuer",
    "unknowns",
]


class FitExpected(Strict):
    verdict: Literal["fit", "partial", "not_fit"]
    architecture: Architecture
    questions: dict[FitQuestionKey, Answer]
    evidence: dict[FitQuestionKey, str] = Field(default_factory=dict)


class FitCase(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    lang: Language
    hard: list[HardTag] = Field(default_factory=list)
    deal: Deal
    expected: FitExpected


def load_fit_cases(path: Path) -> list[FitCase]:
    return _load(path, FitCase)


def _metric(name: str, score: float, problems: list[str]) -> MetricResult:
    return MetricResult(name=name, skill="fit", score=round(score, 4), passed=not problems, problems=problems)


def fit_metrics(result: FitResult, case: FitCase, deal_text: str, problems_found: list[str]) -> list[MetricResult]:
    expected = case.expected
    got = {q.key: q for q in result.questions}
    wrong = [
        f"{key}: {got[key].answer if key in got else 'missing'}, expected {answer}"
        for key, answer in expected.questions.items()
        if key not in got or got[key].answer != answer
    ]
    total = len(expected.questions) or 1
    arch_problems = (
        []
        if result.architecture == expected.architecture
        else [f"{result.architecture}, expected {expected.architecture}"]
    )
    if result.verdict == "not_fit" and not result.alternative:
        arch_problems.append("a not_fit verdict offers no alternative")
    outside = [
        f"{q.key}: {q.evidence!r} is not in the deal"
        for q in result.questions
        if q.evidence and q.evidence not in deal_text
    ]
    return [
        metrics.fit_verdict(result.verdict, expected.verdict, "fit"),
        _metric("fit_questions", 1 - len(wrong) / total, wrong),
        _metric("fit_architecture", 0.0 if arch_problems else 1.0, arch_problems),
        _metric("fit_consistency", 0.0 if problems_found else 1.0, problems_found),
        _metric("fit_evidence", 1 - len(outside) / max(len(result.questions), 1), outside),
    ]


def run_fit_case(engine: Engine, case: FitCase, index: int) -> CaseResult:
    _start(engine)
    call = call_skill(engine, "fit", case.deal)
    output = skill_output("fit", call, describe("fit", case.lang, case.deal, ""))
    results: list[MetricResult] = []
    errors = []
    if call.result is None:
        assert call.error is not None
        errors.append(call.error)
    else:
        assert isinstance(call.result, FitResult)
        result = call.result
        classify = engine.kb.understanding.classifier(CLASSIFIER).classify
        found = contradictions(result, classify)
        output.facts.update(
            {
                "architecture": result.architecture,
                "answers": {q.key: q.answer for q in result.questions},
                "expected": case.expected.verdict,
                "hard": case.hard,
            }
        )
        results += grounding_metrics("fit", call, case.lang, DEFAULT_MAX_CHARS["fit"])
        results += fit_metrics(result, case, case.deal.text(), found)
    misses, hits = _calls(engine)
    return CaseResult(
        case_id=case.id,
        suite="fit",
        index=index,
        lang=case.lang,
        scenario=case.deal.scenario,
        tags={"hard": ", ".join(case.hard), "expected": case.expected.verdict},
        status=_status(results, errors),
        metrics=results,
        outputs=[output],
        judge=_judge(engine, case.lang, output),
        model_calls=misses,
        cache_hits=hits,
        error="; ".join(f"{e.type}: {e.message}" for e in errors) or None,
    )


def fit_slices(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    """Verdict and question accuracy overall, per language and per hard-case tag."""
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for case in results:
        if case.suite != "fit":
            continue
        groups["all"].append(case)
        groups[case.lang or "?"].append(case)
        for tag in filter(None, (t.strip() for t in case.tags.get("hard", "").split(","))):
            groups[f"hard:{tag}"].append(case)
    out: dict[str, dict[str, float]] = {}
    for name in sorted(groups):
        cases = groups[name]
        row: dict[str, Any] = {"n": float(len(cases))}
        for metric in ("fit_verdict", "fit_questions"):
            scores = [m.score for c in cases for m in c.metrics if m.name == metric]
            row[metric] = round(sum(scores) / len(scores), 4) if scores else 0.0
        out[name] = row
    return out
