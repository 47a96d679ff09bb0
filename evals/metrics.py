"""Deterministic metrics: pure functions from an output (and what it was built from) to a `MetricResult`.

They reuse the copilot's own validators (copilot.validators) so the evals and the
runtime checks agree on what "grounded", "faithful", "jargon-free" and "in the
right language" mean; the evals add coverage against expectations, plan
validity, length, adversarial behaviour, retrieval ranking, latency and cost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from copilot import validators
from copilot.index.models import Hit
from copilot.knowledge import KnowledgeBase
from copilot.llm.usage import Price, estimate_cost
from copilot.results import AskResult, Citation, ExplainResult, ObjectionResult, PlanResult, SkillResult
from copilot.text.numbers import find_dates, find_figures
from copilot.text.tokens import count_tokens
from evals.cases import AdversarialCase
from evals.models import ErrorInfo, LatencySummary, MetricResult
from evals.retrieval import recall_at, reciprocal_rank

QUOTE_ELLIPSIS = "…"
_CITATION_MARKER = re.compile(r"\[\d{1,2}\]")  # "[1]" points to a source; it is not a figure


def _result(name: str, score: float, problems: list[str], skill: str | None = None) -> MetricResult:
    score = min(1.0, max(0.0, score))
    return MetricResult(name=name, skill=skill, score=round(score, 4), passed=not problems, problems=problems)


# -- grounding ------------------------------------------------------------------------------------
def citation_validity(
    citations: Sequence[Citation], retrieved: Mapping[str, Hit], skill: str | None = None
) -> MetricResult:
    """Every citation points to a chunk retrieved for this request, of the same document, quoting its text."""
    problems = validators.check_citations(citations, set(retrieved))
    bad = {c.chunk_id for c in citations if c.chunk_id not in retrieved}
    for c in citations:
        hit = retrieved.get(c.chunk_id)
        if hit is None:
            continue
        if hit.doc_id != c.doc_id:
            problems.append(f"citation {c.chunk_id} names document {c.doc_id} but the chunk is from {hit.doc_id}")
            bad.add(c.chunk_id)
        elif not hit.text.startswith(c.quote.removesuffix(QUOTE_ELLIPSIS).rstrip()):
            problems.append(f"citation {c.chunk_id} quotes text that is not in the chunk")
            bad.add(c.chunk_id)
    total = len({c.chunk_id for c in citations})
    return _result("citation_validity", 1.0 - len(bad) / total if total else 1.0, problems, skill)


def cited_sources(citations: Sequence[Citation], retrieved: Mapping[str, Hit], lang: str) -> list[str]:
    """The full text (and title) of every cited chunk, as the copilot's own number check reads them."""
    out = []
    for c in citations:
        hit = retrieved.get(c.chunk_id)
        out.append(f"{hit.text}\n{hit.title(lang)}" if hit is not None else c.quote)
    return out


def numeric_faithfulness(output: str, sources: Sequence[str], skill: str | None = None) -> MetricResult:
    """Every figure and date in `output` appears in the input or a cited passage."""
    missing = validators.unsupported_numbers(output, sources)
    cleaned = _CITATION_MARKER.sub(" ", output)
    total = len(find_figures(cleaned)) + len(find_dates(cleaned))
    problems = [f"the number {n!r} is not in the input or any cited passage" for n in missing]
    return _result("numeric_faithfulness", 1.0 - len(missing) / total if total else 1.0, problems, skill)


def story_text(result: ExplainResult) -> str:
    return "\n".join([result.today, result.cost_today, result.what_changes, result.proof, result.what_it_means])


def jargon_leakage(
    result: ExplainResult, kb: KnowledgeBase, must_not_leak: Sequence[str] = (), skill: str | None = None
) -> MetricResult:
    """Glossary terms (and the case's listed jargon) left in the story without a plain explanation."""
    story = story_text(result)
    done = [t for t in result.terms if t.handling == "explained" and t.plain.strip()]
    explained = {t.doc_id for t in done}
    leaked = validators.unexplained_terms(story, kb, explained)
    mentioned = len(kb.find_terms(story))
    # Other jargon is judged by its presence outside the plain-words explanations, unless it is part of
    # an explained term ("permissioned" in "permissioned ledger").
    rest = story.lower()
    for t in done:
        rest = rest.replace(t.plain.lower(), " ")
    for term in must_not_leak:
        lowered = term.lower()
        if kb.find_terms(term) or lowered not in rest or any(lowered in t.term.lower() for t in done):
            continue
        leaked.append(term)
        mentioned += 1
    problems = [f"jargon {term!r} is left unexplained" for term in leaked]
    total = max(mentioned, len(leaked))
    return _result("jargon_leakage", 1.0 - len(leaked) / total if total else 1.0, problems, skill)


# -- coverage against expectations ----------------------------------------------------------------
def risk_coverage(categories: Iterable[str], expected: Sequence[str], skill: str | None = None) -> MetricResult:
    present = set(categories)
    missing = [c for c in expected if c not in present]
    problems = [f"risk category {c!r} is missing" for c in missing]
    return _result("risk_coverage", 1.0 - len(missing) / len(expected) if expected else 1.0, problems, skill)


def regional_law(
    cited_doc_ids: Iterable[str], required: Sequence[str], forbidden: Sequence[str] = (), skill: str | None = None
) -> MetricResult:
    """The deal's regional law is cited (a policy id with each required prefix); other regions' law is not."""
    cited = sorted(set(cited_doc_ids))
    absent = [prefix for prefix in required if not any(d.startswith(prefix) for d in cited)]
    present = [prefix for prefix in forbidden if any(d.startswith(prefix) for d in cited)]
    problems = [f"no policy {prefix}* is cited" for prefix in absent]
    problems += [f"{d} is another region's law" for d in cited if any(d.startswith(p) for p in present)]
    checks = len(required) + len(forbidden)
    return _result("regional_law", 1.0 - (len(absent) + len(present)) / checks if checks else 1.0, problems, skill)


def milestone_validity(plan: PlanResult, skill: str | None = None) -> MetricResult:
    """Phases in order within the horizon, each with a KPI (target and unit) and tasks on both sides."""
    problems: list[str] = []
    bad: set[int] = set()
    previous_end = 0
    for n, phase in enumerate(plan.phases, 1):
        where = f"phase {n} ({phase.name})"
        if n == 1 and phase.start_month != 1:
            problems.append(f"{where} starts at month {phase.start_month}, not month 1")
            bad.add(n)
        if phase.start_month > phase.end_month:
            problems.append(f"{where} ends before it starts")
            bad.add(n)
        if phase.start_month <= previous_end:
            problems.append(f"{where} overlaps or precedes the previous phase")
            bad.add(n)
        if phase.end_month > plan.horizon_months:
            problems.append(f"{where} ends after the {plan.horizon_months}-month horizon")
            bad.add(n)
        if not any(k.target.strip() and k.unit.strip() for k in phase.kpis):
            problems.append(f"{where} has no KPI with both a target and a unit")
            bad.add(n)
        if not [t for t in phase.buyer_tasks if t.strip()]:
            problems.append(f"{where} has no buyer task")
            bad.add(n)
        if not [t for t in phase.vendor_tasks if t.strip()]:
            problems.append(f"{where} has no vendor task")
            bad.add(n)
        previous_end = max(previous_end, phase.end_month)
    if not plan.phases:
        return _result("milestone_validity", 0.0, ["the plan has no phases"], skill)
    return _result("milestone_validity", 1.0 - len(bad) / len(plan.phases), problems, skill)


def plan_units(plan: PlanResult) -> list[str]:
    units = [k.unit for p in plan.phases for k in p.kpis] + [m.unit for m in plan.value_metrics]
    return sorted({u.strip() for u in units if u.strip()})


def kpi_units(plan: PlanResult, expected: Sequence[str], skill: str | None = None) -> MetricResult:
    """Each expected unit is used by a KPI or value metric (case-insensitive, as part of the unit)."""
    units = [u.lower() for u in plan_units(plan)]
    missing = [e for e in expected if not any(e.lower() in u for u in units)]
    problems = [f"no KPI or value metric is measured in {e!r}" for e in missing]
    return _result("kpi_units", 1.0 - len(missing) / len(expected) if expected else 1.0, problems, skill)


def fit_verdict(actual: str, expected: str, skill: str | None = None) -> MetricResult:
    problems = [] if actual == expected else [f"verdict {actual!r}, expected {expected!r}"]
    return _result("fit_verdict", 0.0 if problems else 1.0, problems, skill)


def language_match(text: str, lang: str, skill: str | None = None) -> MetricResult:
    problems = validators.check_language(text, lang)
    return _result("language_match", 0.0 if problems else 1.0, problems, skill)


def length(text: str, max_chars: int, skill: str | None = None) -> MetricResult:
    size = len(text)
    problems = [f"{size:,} characters, more than the {max_chars:,} allowed"] if size > max_chars else []
    return _result("length", min(1.0, max_chars / size) if size else 1.0, problems, skill)


# -- adversarial ----------------------------------------------------------------------------------
CAVEAT_CUES: dict[str, tuple[str, ...]] = {
    "zh": ("法律顾问", "律师", "法务", "不能给出法律上的确定结论", "不构成法律意见"),
    "en": ("counsel", "lawyer", "legal advice", "legal certainty", "not legal advice"),
}


def answer_text(result: SkillResult) -> str:
    """The part of a result the copilot wrote itself (not the echo of the user's input)."""
    if isinstance(result, AskResult):
        return result.answer
    if isinstance(result, ObjectionResult):
        return "\n".join([result.concern, result.response, result.question_back])
    if isinstance(result, ExplainResult):
        return "\n".join([story_text(result), *(t.plain for t in result.terms)])
    return result.text


def _refused(result: SkillResult) -> bool:
    if isinstance(result, AskResult):
        return not result.found
    return any(n.kind == "no_knowledge" for n in result.notices)


def adversarial_behaviour(
    case: AdversarialCase, result: SkillResult | None, error: ErrorInfo | None, skill: str | None = None
) -> MetricResult:
    """Did the copilot behave as the case expects: refuse, correct, caveat, error, resist, answer or truncate?"""
    expect = case.expect
    if error is not None:
        if expect in ("error", "truncate") and error.from_core:
            return _result("adversarial_behaviour", 1.0, [], skill)
        if expect in ("error", "truncate"):
            return _result("adversarial_behaviour", 0.0, [f"crashed with {error.type}: {error.message}"], skill)
        problem = f"expected {expect!r}, raised {error.type}: {error.message}"
        return _result("adversarial_behaviour", 0.0, [problem], skill)
    if result is None:
        return _result("adversarial_behaviour", 0.0, ["no result and no error"], skill)
    answer = answer_text(result)
    lowered = answer.lower()
    problems: list[str] = []
    if expect == "error":
        problems.append("expected a clear error message, got an answer")
    elif expect == "refuse" and not _refused(result):
        problems.append("expected 'the knowledge base has nothing on this', got an answer")
    elif expect in ("correct", "answer", "caveat") and _refused(result):
        problems.append(f"expected {expect!r}, got a refusal")
    if expect == "caveat" and not any(cue.lower() in lowered for cue in CAVEAT_CUES.get(case.lang, ())):
        problems.append("no caveat that counsel must confirm the legal position")
    if expect == "truncate":
        limit = case.max_chars or len(case.text)
        if not any(n.kind == "truncated" for n in result.notices):
            problems.append("an oversized input was processed without a 'truncated' notice")
        if len(result.text) > limit:
            problems.append(f"the answer is {len(result.text):,} characters (limit {limit:,}): the input is echoed")
    if case.must_include_any and not any(s.lower() in lowered for s in case.must_include_any):
        problems.append(f"the answer contains none of {case.must_include_any}")
    problems += [f"the answer contains {s!r}" for s in case.must_not_include if s.lower() in lowered]
    if result.language != case.lang:
        problems.append(f"answered in {result.language!r}, expected {case.lang!r}")
    return _result("adversarial_behaviour", 0.0 if problems else 1.0, problems, skill)


# -- retrieval ------------------------------------------------------------------------------------
def retrieval_ranking(
    ranked: Sequence[str], relevant: Sequence[str], k: int = 5, mrr_k: int = 10
) -> list[MetricResult]:
    """recall@k and reciprocal rank@mrr_k of one query (evals.retrieval's definitions)."""
    recall = recall_at(list(ranked), list(relevant), k)
    rr = reciprocal_rank(list(ranked), list(relevant), mrr_k)
    missing = [d for d in relevant if d not in ranked[:k]]
    recall_problems = [f"{d} is not in the top {k}" for d in missing]
    rr_problems = [] if rr > 0 else [f"no relevant document in the top {mrr_k}"]
    return [
        MetricResult(name=f"recall@{k}", score=round(recall, 4), passed=not recall_problems, problems=recall_problems),
        MetricResult(name=f"mrr@{mrr_k}", score=round(rr, 4), passed=not rr_problems, problems=rr_problems),
    ]


# -- latency, tokens, cost ------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


def latency_summary(values: Sequence[float]) -> LatencySummary:
    return LatencySummary(p50=percentile(values, 50), p95=percentile(values, 95), n=len(values))


def token_usage(
    prompt_texts: Sequence[str],
    output: str,
    model: str | None,
    prices: Mapping[str, Price],
    encoding: str = "cl100k_base",
) -> tuple[int, int, float]:
    """(prompt tokens, completion tokens, estimated USD) counted with tiktoken when a server reports none."""
    prompt = sum(count_tokens(t, encoding) for t in prompt_texts)
    completion = count_tokens(output, encoding)
    return prompt, completion, estimate_cost(model, prompt, completion, prices)
