"""Run one eval case through the copilot's public API and score it.

Each skill call is made inside a retrieval recording (evals.recording), timed,
and its result scored by the metrics that apply to it; exceptions are kept as
data (type, module, message). When a judge is configured, every output is also
scored by it; judge failures are kept beside the scores, never as one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copilot.core import Copilot
from copilot.deal import Deal
from copilot.index.models import Hit
from copilot.prompts import deal_yaml
from copilot.results import (
    AskResult,
    BriefResult,
    ExplainResult,
    FitResult,
    PlanResult,
    RisksResult,
    SkillResult,
)
from evals import card_metrics, deal_metrics, metrics
from evals.cases import DEFAULT_MAX_CHARS, AdversarialCase, SkillCase
from evals.judge import Judge
from evals.models import (
    CaseResult,
    CaseStatus,
    CitationRef,
    ErrorInfo,
    JudgeScore,
    MetricResult,
    SkillOutput,
    UsageInfo,
)
from evals.recording import RecordingKnowledgeBase
from evals.retrieval import GoldQuery, rank_docs

MAX_TASK_INPUT_CHARS = 4000
_SKILL_TASKS = {
    "explain": ("把技术内容讲成听众能懂的业务故事", "turn technical text into a business story for the audience"),
    "risks": ("这笔交易的风险清单", "a risk checklist for this deal"),
    "plan": ("分阶段实施计划与 KPI", "a phased implementation plan with KPIs"),
    "fit": ("判断这笔交易是否需要区块链", "decide whether this deal needs a blockchain"),
    "objection": ("应对客户的异议", "handle the buyer's objection"),
    "ask": ("回答销售的问题", "answer the rep's question"),
    "brief": ("会前简报", "a meeting brief"),
}


@dataclass
class Engine:
    copilot: Copilot
    kb: RecordingKnowledgeBase
    judge: Judge | None = None
    cache: Any = None  # evals.cache.ResponseCache when a model is used


@dataclass
class Call:
    result: SkillResult | None
    error: ErrorInfo | None
    retrieved: dict[str, Hit]
    latency_ms: float
    input_text: str


def _error(exc: BaseException) -> ErrorInfo:
    return ErrorInfo(type=type(exc).__name__, module=type(exc).__module__, message=str(exc)[:500])


def call_skill(
    engine: Engine, skill: str, deal: Deal | None, text: str = "", horizon: int | None = 12, copilot: Any = None
) -> Call:
    """Run one skill; `text` is its input (text to explain, objection, question); `copilot`: the case's own
    (with the case's vendor profile), else the engine's."""
    c = copilot or engine.copilot
    actions: dict[str, Callable[[], SkillResult]] = {
        "risks": lambda: c.risks(_need(deal)),
        "plan": lambda: c.plan(_need(deal), horizon),
        "fit": lambda: c.fit(_need(deal)),
        "explain": lambda: c.explain(_need(deal), text),
        "objection": lambda: c.objection(_need(deal), text),
        "ask": lambda: c.ask(text, deal),
        "brief": lambda: c.brief(_need(deal), horizon_months=horizon),
    }
    input_text = str(horizon or "") if skill in ("plan", "brief") else text
    if deal is not None:
        input_text += "\n" + deal.text()
    if c.vendor is not None:
        input_text += "\n" + c.vendor.text()
    with engine.kb.recording() as retrieved:
        started = time.perf_counter()
        try:
            result: SkillResult | None = actions[skill]()
            error = None
        except Exception as exc:
            result, error = None, _error(exc)
        latency = round((time.perf_counter() - started) * 1000, 1)
    return Call(result, error, dict(retrieved), latency, input_text)


def _need(deal: Deal | None) -> Deal:
    if deal is None:
        raise ValueError("this skill needs a deal")
    return deal


# -- outputs --------------------------------------------------------------------------------------
def _facts(result: SkillResult) -> dict[str, Any]:
    if isinstance(result, RisksResult):
        return {
            "categories": sorted({i.category for i in result.items}),
            "policies": sorted({c.doc_id for c in result.citations if c.doc_id.startswith("policy-")}),
        }
    if isinstance(result, PlanResult):
        return {
            "phases": [[p.start_month, p.end_month] for p in result.phases],
            "units": metrics.plan_units(result),
        }
    if isinstance(result, FitResult):
        return {"verdict": result.verdict}
    if isinstance(result, AskResult):
        return {"found": result.found}
    if isinstance(result, ExplainResult):
        return {"terms": [t.term for t in result.terms]}
    if isinstance(result, BriefResult):
        return {"verdict": result.fit.verdict, "categories": sorted({i.category for i in result.risks.items})}
    return {}


def skill_output(skill: str, call: Call, task: str = "") -> SkillOutput:
    result = call.result
    if result is None:
        return SkillOutput(skill=skill, task=task, latency_ms=call.latency_ms, error=call.error)
    usage = result.usage
    return SkillOutput(
        skill=skill,
        task=task,
        mode=result.mode,
        language=result.language,
        text=result.text,
        citations=[CitationRef(doc_id=c.doc_id, chunk_id=c.chunk_id, title=c.title) for c in result.citations],
        notices=[f"{n.kind}: {n.message}" for n in result.notices],
        facts=_facts(result),
        usage=UsageInfo(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            model=usage.model,
        ),
        latency_ms=call.latency_ms,
    )


# -- scoring --------------------------------------------------------------------------------------
def rating_reasons(result: Any) -> list[str]:
    """The reasons a risk's rating moved ("可能性 3 → 2: …"): numbers on the 1–5 scale decided by code from the
    library's rating and the deal, so they count as sources like the input (a brief carries them in its risks)."""
    risks = result if isinstance(result, RisksResult) else getattr(result, "risks", None)
    if not isinstance(risks, RisksResult):
        return []
    return [reason for item in risks.items for reason in item.rating_reasons]


def grounding_metrics(skill: str, call: Call, lang: str, max_chars: int) -> list[MetricResult]:
    """Checks every result must pass: citations, numbers, language, length."""
    result = call.result
    assert result is not None
    sources = [call.input_text, *metrics.cited_sources(result.citations, call.retrieved, result.language)]
    sources += rating_reasons(result)
    return [
        metrics.citation_validity(result.citations, call.retrieved, skill),
        metrics.numeric_faithfulness(result.text, sources, skill),
        metrics.language_match(result.text, lang, skill),
        metrics.length(result.text, max_chars, skill),
    ]


def expectation_metrics(skill: str, result: SkillResult, case: SkillCase, engine: Engine) -> list[MetricResult]:
    expect = case.expect
    out: list[MetricResult] = []
    risks = result.risks if isinstance(result, BriefResult) else result if isinstance(result, RisksResult) else None
    plan = result.plan if isinstance(result, BriefResult) else result if isinstance(result, PlanResult) else None
    fit = result.fit if isinstance(result, BriefResult) else result if isinstance(result, FitResult) else None
    story = result.story if isinstance(result, BriefResult) else result if isinstance(result, ExplainResult) else None
    if risks is not None:
        if expect.risk_categories:
            out.append(metrics.risk_coverage([i.category for i in risks.items], expect.risk_categories, skill))
        if expect.law_cited or expect.law_not_cited:
            cited = [c.doc_id for c in risks.citations]
            out.append(metrics.regional_law(cited, expect.law_cited, expect.law_not_cited, skill))
    if plan is not None:
        out.append(metrics.milestone_validity(plan, skill))
        if expect.kpi_units:
            out.append(metrics.kpi_units(plan, expect.kpi_units, skill))
    if fit is not None and expect.fit is not None:
        out.append(metrics.fit_verdict(fit.verdict, expect.fit, skill))
    if story is not None:
        out.append(metrics.jargon_leakage(story, engine.kb, expect.jargon, skill))
    if isinstance(result, BriefResult):
        out += card_metrics.brief_metrics(result, case.deal, case_copilot(engine, case).vendor)
    elif isinstance(result, ExplainResult):
        out += card_metrics.explain_metrics(result)
    return out + deal_understanding_metrics(skill, result, case, engine)


def case_copilot(engine: Engine, case: SkillCase) -> Copilot:
    """The engine's copilot, or one with the case's vendor profile (the knowledge base and model shared)."""
    if case.vendor is None:
        return engine.copilot
    from copilot.vendor import load_vendor

    c = engine.copilot
    return Copilot(c.settings, c.kb, c.model, c.notices, vendor=load_vendor(case.vendor_path()))


def deal_understanding_metrics(skill: str, result: SkillResult, case: SkillCase, engine: Engine) -> list[MetricResult]:
    """Compliance coverage, industry and chain-type leakage, vendor claims (evals.deal_metrics)."""
    if skill == "ask":
        return []
    copilot = case_copilot(engine, case)
    deal = (
        case.deal if case.deal.lang == result.language else case.deal.model_copy(update={"language": result.language})
    )
    reading = copilot.read(deal)
    text = deal_metrics.without_sources(result.text, result.citations)
    out = [
        deal_metrics.industry_leakage(text, reading, engine.kb.industries, result.language, skill),
        deal_metrics.chain_type_leakage(text, engine.kb, reading.chain_type, result.language, skill),
        deal_metrics.vendor_claims(text, copilot.vendor, skill),
    ]
    risks = result.risks if isinstance(result, BriefResult) else result if isinstance(result, RisksResult) else None
    if risks is not None:
        out.append(deal_metrics.compliance_coverage(reading, risks, skill))
    return out


def _status(metric_results: list[MetricResult], errors: list[ErrorInfo]) -> CaseStatus:
    if errors:
        return "error"
    return "pass" if all(m.passed for m in metric_results) else "fail"


def task_description(skill: str, lang: str, deal: Deal | None, text: str) -> str:
    """What the judge is told the copilot was asked to do."""
    zh = lang == "zh"
    goal = _SKILL_TASKS[skill][0 if zh else 1]
    lines = [f"{'任务' if zh else 'Task'}: {goal} ({skill})"]
    if deal is not None:
        lines += [f"{'交易' if zh else 'Deal'}:", deal_yaml(deal)]
    if text.strip():
        clipped = text if len(text) <= MAX_TASK_INPUT_CHARS else text[:MAX_TASK_INPUT_CHARS] + " …"
        lines += [f"{'用户输入' if zh else 'User input'}:", clipped]
    return "\n".join(lines)


def _judge(engine: Engine, lang: str, output: SkillOutput) -> list[JudgeScore]:
    if engine.judge is None or output.error is not None:
        return []
    return [engine.judge.score(skill=output.skill, lang=lang, task=output.task, answer=output.text)]


def _start(engine: Engine) -> None:
    if engine.cache is not None:
        engine.cache.reset_thread_counts()


def _calls(engine: Engine) -> tuple[int, int]:
    return engine.cache.thread_counts() if engine.cache is not None else (0, 0)


# -- suites ---------------------------------------------------------------------------------------
def _skill_input(case: SkillCase, skill: str) -> str:
    return {"explain": case.explain, "objection": case.objection, "ask": case.question}.get(skill) or ""


def run_skill_case(engine: Engine, case: SkillCase, index: int) -> CaseResult:
    _start(engine)
    outputs, results, judged, errors = [], [], [], []
    for skill in case.skills:
        text = _skill_input(case, skill)
        call = call_skill(engine, skill, case.deal, text, case.horizon_months, case_copilot(engine, case))
        output = skill_output(skill, call, task_description(skill, case.lang, case.deal, text))
        outputs.append(output)
        if call.result is None:
            assert call.error is not None
            errors.append(call.error)
            continue
        results += grounding_metrics(skill, call, case.lang, case.max_chars(skill))
        results += expectation_metrics(skill, call.result, case, engine)
        judged += _judge(engine, case.lang, output)
    misses, hits = _calls(engine)
    return CaseResult(
        case_id=case.id,
        suite="skills",
        index=index,
        lang=case.lang,
        scenario=case.deal.scenario,
        tags={"stage": case.deal.stage, "region": case.deal.region, "audience": ", ".join(case.deal.audience)},
        status=_status(results, errors),
        metrics=results,
        outputs=outputs,
        judge=judged,
        model_calls=misses,
        cache_hits=hits,
        error="; ".join(f"{e.type}: {e.message}" for e in errors) or None,
    )


def run_adversarial_case(engine: Engine, case: AdversarialCase, index: int) -> CaseResult:
    _start(engine)
    text = case.text
    deal: Deal | None = None
    try:
        deal = case.parsed_deal()
    except Exception as exc:  # a deal the case expects to be rejected
        call = Call(None, _error(exc), {}, 0.0, text)
    else:
        call = call_skill(engine, case.skill, deal, text)
    output = skill_output(case.skill, call, task_description(case.skill, case.lang, deal, text))
    results = [metrics.adversarial_behaviour(case, call.result, call.error, case.skill)]
    if call.result is not None:
        max_chars = case.max_chars or DEFAULT_MAX_CHARS[case.skill]
        results += grounding_metrics(case.skill, call, case.lang, max_chars)
    unexpected = call.error is not None and case.expect not in ("error", "truncate")
    judged = _judge(engine, case.lang, output)
    misses, hits = _calls(engine)
    return CaseResult(
        case_id=case.id,
        suite="adversarial",
        index=index,
        lang=case.lang,
        scenario=deal.scenario if deal is not None else None,
        tags={"kind": case.kind, "expect": case.expect, "skill": case.skill},
        status=_status(results, [call.error] if unexpected and call.error else []),
        metrics=results,
        outputs=[output],
        judge=judged,
        model_calls=misses,
        cache_hits=hits,
        error=f"{call.error.type}: {call.error.message}" if unexpected and call.error else None,
    )


def run_retrieval_case(engine: Engine, query: GoldQuery, index: int) -> CaseResult:
    started = time.perf_counter()
    ranked = rank_docs(engine.kb.retriever, query, "hybrid")
    latency = round((time.perf_counter() - started) * 1000, 1)
    results = metrics.retrieval_ranking(ranked, query.relevant)
    output = SkillOutput(
        skill="search",
        language=query.target_lang or query.lang,
        text="\n".join(f"{n}. {doc_id}" for n, doc_id in enumerate(ranked, 1)),
        facts={"slice": query.slice, "relevant": query.relevant, "ranked": ranked},
        latency_ms=latency,
    )
    return CaseResult(
        case_id=query.id,
        suite="retrieval",
        index=index,
        lang=query.lang,
        scenario=query.scenario,
        tags={"slice": query.slice, "query": query.query},
        status="pass" if results[0].passed else "fail",
        metrics=results,
        outputs=[output],
    )
