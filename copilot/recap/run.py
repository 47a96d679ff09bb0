"""The recap skill: notes in, RecapResult out (offline extraction; in LLM mode the model may polish the email)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from copilot.deal import Deal
from copilot.knowledge import KnowledgeBase
from copilot.recap.compose import checked_email, follow_up_email, render_recap, updated_deal
from copilot.recap.extract import extract
from copilot.recap.models import RecapResult
from copilot.results import Notice, Usage


def recap(
    kb: KnowledgeBase, deal: Deal, notes: str, model: Any | None = None, notices: Sequence[Notice] = ()
) -> RecapResult:
    started = time.perf_counter()
    items = extract(kb, deal, notes)
    result = RecapResult(language=deal.lang, customer=deal.customer, notices=list(notices), **items)  # type: ignore[arg-type]
    data, changes = updated_deal(kb, deal, result)
    result = result.model_copy(update={"updated_deal": data, "changes": changes})
    email = follow_up_email(result, deal)
    mode = "offline"
    if model is not None:
        email, extra, used = checked_email(model, email, notes, deal)
        mode = "llm" if used else "offline"
        result = result.model_copy(update={"notices": [*result.notices, *extra]})
    result = result.model_copy(update={"email": email, "mode": mode})
    usage = Usage(latency_ms=round((time.perf_counter() - started) * 1000, 1))
    return result.model_copy(update={"text": render_recap(result), "usage": usage})
