"""One skill call: the offline result (adapted to the deal), then in LLM mode the model's, grounded in the same
passages and held to the same validators, or the offline one as the fallback.

The offline result is computed first in both modes: it is cheap and deterministic, and it is what is shown
when the model's draft fails its checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.reading.relevance import Relevance, order_brief
from copilot.replies import PREVIEW
from copilot.results import BriefResult, ExplainResult, Notice, SkillResult, Usage
from copilot.skills.brief import render_brief
from copilot.skills.fit import fit_problems
from copilot.text.tokens import count_tokens
from copilot.validators import check_jargon, validate

if TYPE_CHECKING:
    from copilot.core import Copilot

R = TypeVar("R", bound=SkillResult)


def run_skill(
    copilot: Copilot,
    skill: str,
    deal: Deal | None,
    lang: str,
    input_text: str,
    compose: Callable[[Grounding], R],
    render: Callable[[R], str],
    task_input: str | Callable[[R], str] = "",
    input_notices: Sequence[Notice] = (),
) -> R:
    """The offline result; in LLM mode the model's, grounded in the same passages, or the offline one.

    `input_notices` (what was done to the user's text) are added to the result, whichever it is. `task_input`
    may be a function of the offline result as composed (e.g. the fit's decision, decided once by the code).
    """
    started = time.perf_counter()
    vendor_text = copilot.vendor.text() if copilot.vendor else ""
    grounding = Grounding(copilot.kb, lang, "\n".join([input_text, deal.text() if deal else "", vendor_text]))
    composed = offline = compose(grounding)
    if deal is not None:  # industry wording adapted; no claim about another chain type
        offline = adapt(copilot, offline, deal, lang)
    notices = [*copilot.notices, *input_notices]
    offline = offline.model_copy(update={"mode": "offline", "notices": [*notices, *offline.notices]})
    if copilot.model is None:
        usage = Usage(
            completion_tokens=count_tokens(offline.text, copilot.settings.tokenizer_encoding),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return offline.model_copy(update={"usage": usage})
    from copilot.llm.runner import run_llm_skill
    from copilot.prompts import deal_yaml

    task = task_input(composed) if callable(task_input) else task_input

    result = run_llm_skill(
        copilot.model,
        skill=skill,
        lang=lang,
        variables={"deal": deal_yaml(deal) if deal else "", "task_input": task},
        result_cls=type(offline),
        grounding=grounding,
        offline_result=offline,
        render=render,
        validate_fn=lambda r: result_problems(copilot.kb, r, grounding),
        settings=copilot.settings,
        stream=PREVIEW.get(),
    )
    usage = result.usage.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 1)})
    if result.mode == "llm":
        result = result.model_copy(update={"notices": [*notices, *result.notices]})
    return result.model_copy(update={"usage": usage})


def adapt(copilot: Copilot, result: R, deal: Deal, lang: str) -> R:
    """`result` in the deal's industry's words, without sentences claiming another chain type's properties."""
    reading = copilot.read(deal)
    result = reading.adapter(lang, copilot.kb.line_matcher(reading.chain_type, lang)).model(result)
    if isinstance(result, BriefResult):  # questions, demo steps, talking points: the deal's first
        relevance = Relevance(reading, copilot.kb.industries, {r.key: r for r in copilot.kb.regimes})
        ordered = order_brief(result, relevance)
        if ordered is not result:
            result = cast("R", ordered.model_copy(update={"text": render_brief(ordered, copilot.kb)}))
    return result


def result_problems(kb: KnowledgeBase, result: SkillResult, grounding: Grounding) -> list[str]:
    """The validators every result must pass (the same ones the evals report)."""
    cited = grounding.text_of(result.citations)
    problems = validate(result, retrieved=set(grounding.hits), input_text=grounding.input_text, cited_text=cited)
    checks = check_jargon(result, kb) if isinstance(result, ExplainResult) else fit_problems(result, kb)
    if isinstance(result, BriefResult):  # the brief's fit narrates the same decision as `nego fit`
        checks += [f"fit: {p}" for p in fit_problems(result.fit, kb)]
    return problems + checks
