"""What the copilot runs on, said safely, and a one-call check that the model endpoint answers.

The label and every message here are built from the provider, model name, host
and the failure's kind and HTTP status only: never from an API key, and never
from the server's own error text (a server may echo the key back).
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict

from copilot.settings import Settings
from copilot.wording import Wording

PING = "Reply with the single word: OK"


class ConnectionCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    target: str
    message: str
    latency_ms: float | None = None


def model_label(settings: Settings) -> str:
    """ "offline", or "model @ host" for the configured endpoint (no key, no user:password)."""
    from copilot.llm.model import describe_model

    return describe_model(settings)


def check_connection(settings: Settings, lang: str = "en") -> ConnectionCheck:
    """Send one tiny chat request to the configured endpoint and say whether it answered."""
    from copilot.llm.errors import ModelConfigError
    from copilot.llm.failures import classify, reason
    from copilot.llm.model import get_chat_model

    words = Wording("connection", "zh" if lang == "zh" else "en")
    target = model_label(settings)
    if settings.provider == "offline":
        return ConnectionCheck(ok=True, target=target, message=words("offline"))
    try:
        model = get_chat_model(settings)
    except ModelConfigError as exc:
        return ConnectionCheck(ok=False, target=target, message=str(exc))
    started = time.perf_counter()
    try:
        model.invoke(PING)
    except Exception as exc:  # whatever the client raises is classified, never shown as is
        failure = classify(exc)
        what = reason(failure, lang)
        return ConnectionCheck(ok=False, target=target, message=words("failed", reason=what))
    latency = round((time.perf_counter() - started) * 1000, 1)
    return ConnectionCheck(ok=True, target=target, message=words("connected", target=target), latency_ms=latency)
