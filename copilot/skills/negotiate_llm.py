"""`Copilot.negotiate`: the plan by the rules; in LLM mode the model only narrates it, and is checked.

The model gets the deal and the plan's numbers (negotiate.ladder_facts) and writes `narration`.
The narration is rejected when it states a number that is neither in the plan nor in the deal
(or the vendor profile), or is in the wrong language; after one retry the offline narration is
shown with a fallback notice. The ladder, walk-aways and every other field are never the model's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import Notice, SkillResult, Usage
from copilot.settings import Settings
from copilot.skills.negotiate import ladder_facts, negotiate_offline, plan_numbers, render_negotiation
from copilot.skills.negotiate_model import NegotiationResult
from copilot.text.tokens import count_tokens
from copilot.validators import check_language, unsupported_numbers
from copilot.vendor import VendorProfile


class NarrationResult(SkillResult):
    """What the model writes for a negotiation plan: the narration only."""

    skill: Literal["negotiate"] = "negotiate"
    narration: str = Field(
        description="how to run the negotiation, step by step, using only the numbers given in the plan"
    )


def narration_problems(text: str, sources: Sequence[str], lang: str) -> list[str]:
    """Why a narration may not be shown: a number not in the plan or the deal, the wrong language, empty."""
    if not text.strip():
        return ["the narration is empty"]
    problems = [
        f"the number {n!r} is not in the negotiation plan or the deal" for n in unsupported_numbers(text, sources)
    ]
    return problems + check_language(text, lang)


def negotiate(
    kb: KnowledgeBase,
    model: Any | None,
    settings: Settings,
    vendor: VendorProfile | None,
    deal: Deal,
    notices: Sequence[Notice] = (),
) -> NegotiationResult:
    started = time.perf_counter()
    lang = deal.lang
    vendor_text = vendor.text() if vendor else ""
    grounding = Grounding(kb, lang, "\n".join([deal.text(), vendor_text]))
    plan = negotiate_offline(grounding, deal, vendor, lang)
    plan = plan.model_copy(update={"notices": [*notices, *plan.notices]})
    if model is None or not plan.has_negotiation:
        usage = Usage(
            completion_tokens=count_tokens(plan.text, settings.tokenizer_encoding),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return plan.model_copy(update={"usage": usage})
    from copilot.llm.runner import run_llm_skill
    from copilot.prompts import deal_yaml

    facts = ladder_facts(plan)
    sources = [facts, plan_numbers(plan), deal.text(), vendor_text]
    offline = NarrationResult(language=plan.language, narration=plan.narration)
    narrated = run_llm_skill(
        model,
        skill="negotiate",
        lang=lang,
        variables={"deal": deal_yaml(deal), "task_input": facts},
        result_cls=NarrationResult,
        grounding=grounding,
        offline_result=offline,
        render=lambda r: r.narration,
        validate_fn=lambda r: narration_problems(r.narration, sources, lang),
        settings=settings,
    )
    usage = narrated.usage.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 1)})
    update: dict[str, Any] = {"notices": [*plan.notices, *narrated.notices], "usage": usage}
    if narrated.mode == "llm":
        update |= {"narration": narrated.narration, "mode": "llm"}
    result = plan.model_copy(update=update)
    return result.model_copy(update={"text": render_negotiation(result)})
