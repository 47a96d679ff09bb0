"""The recap skill: notes in, RecapResult out (offline extraction; in LLM mode the model may polish the email)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from copilot.deal import Deal
from copilot.knowledge import KnowledgeBase
from copilot.privacy import Redactor, redaction_enabled
from copilot.recap.compose import checked_email, follow_up_email, render_recap, updated_deal
from copilot.recap.extract import extract
from copilot.recap.models import RecapResult
from copilot.results import Notice, Usage
from copilot.settings import Settings


def recap(
    kb: KnowledgeBase,
    deal: Deal,
    notes: str,
    model: Any | None = None,
    notices: Sequence[Notice] = (),
    settings: Settings | None = None,
) -> RecapResult:
    """The recap of `notes`; with a model, the email may be polished (personal data redacted per `settings`)."""
    started = time.perf_counter()
    items = extract(kb, deal, notes)
    result = RecapResult(language=deal.lang, customer=deal.who(), notices=list(notices), **items)  # type: ignore[arg-type]
    data, changes = updated_deal(kb, deal, result)
    result = result.model_copy(update={"updated_deal": data, "changes": changes})
    email = follow_up_email(result, deal)
    mode = "offline"
    if model is not None:
        redactor = Redactor() if settings is not None and redaction_enabled(settings) else None
        email, extra, used = checked_email(model, email, notes, deal, redactor)
        mode = "llm" if used else "offline"
        result = result.model_copy(update={"notices": [*result.notices, *extra]})
    result = result.model_copy(update={"email": email, "mode": mode})
    usage = Usage(latency_ms=round((time.perf_counter() - started) * 1000, 1))
    return result.model_copy(update={"text": render_recap(result), "usage": usage})
