"""Why a model call failed, whether retrying can help, and how to say it to the user.

`classify` maps whatever the client raised (openai / langchain exceptions, plain
Python ones from other chat models) onto a small set of kinds. The message shown
to the user is built from the kind and HTTP status only, never from the
exception's text: a server may echo the API key in its error message.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from copilot.llm.errors import LLMError
from copilot.wording import Wording

RETRYABLE_KINDS = frozenset({"timeout", "connection", "rate_limit", "server", "stream_cut", "invalid_output"})


@dataclass(frozen=True)
class Failure:
    kind: str  # timeout | connection | rate_limit | server | stream_cut | invalid_output | refusal | auth
    # | not_found | rejected | validation | error
    status: int | None = None
    retry_after_s: float | None = None
    exc_type: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after_seconds(exc: BaseException, now: float | None = None) -> float | None:
    """The server's Retry-After (retry-after-ms, or retry-after in seconds or as an HTTP date), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def classify(exc: BaseException) -> Failure:
    name = type(exc).__name__
    if isinstance(exc, LLMError):
        return Failure(exc.kind, exc.status, exc_type=name)
    status = _status(exc)
    if status is not None:
        if status == 429:
            return Failure("rate_limit", status, retry_after_seconds(exc), name)
        if status in (408, 409) or status >= 500:
            return Failure("server", status, retry_after_seconds(exc), name)
        if status in (401, 403):
            return Failure("auth", status, exc_type=name)
        if status == 404:
            return Failure("not_found", status, exc_type=name)
        return Failure("rejected", status, exc_type=name)
    return Failure(_kind_without_status(exc), exc_type=name)


def _kind_without_status(exc: BaseException) -> str:
    try:
        import openai
        from langchain_core.exceptions import (
            ModelConnectionError,
            ModelRefusalError,
            ModelTimeoutError,
            OutputParserException,
        )
    except ImportError:  # pragma: no cover - both are dependencies
        return "error"
    if isinstance(exc, ModelRefusalError | openai.ContentFilterFinishReasonError):
        return "refusal"
    if isinstance(exc, ModelTimeoutError | openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, ModelConnectionError | openai.APIConnectionError | ConnectionError):
        return "stream_cut" if _cut_mid_reply(exc) else "connection"
    if isinstance(exc, OutputParserException | openai.LengthFinishReasonError | json.JSONDecodeError):
        return "invalid_output"
    if isinstance(exc, ValueError | TypeError):
        # pydantic ValidationError (the reply did not match the schema), a body that is not a
        # chat completion ("null value for 'choices'", "unexpected response type")
        return "invalid_output"
    return "error"


_CUT_ERRORS = frozenset({"RemoteProtocolError", "IncompleteRead", "ReadError"})


def _cut_mid_reply(exc: BaseException) -> bool:
    """Whether the connection broke while the reply was arriving (not: could not connect at all)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _CUT_ERRORS:
            return True
        current = current.__cause__ or current.__context__
    return False


# -- what the user reads --------------------------------------------------------------------------
def _wording(lang: str) -> Wording:
    return Wording("failures", "zh" if lang == "zh" else "en")


def reason(failure: Failure, lang: str) -> str:
    """Why the call failed, in `lang` (prompts/offline/<lang>/failures.yaml), with the HTTP status if any."""
    say = _wording(lang)
    kind = failure.kind if say.has(f"reason.{failure.kind}") else "error"
    text = say(f"reason.{kind}")
    if failure.status is not None:
        text = say("with_status", status=failure.status, reason=text)
    return text


def fallback_message(failure: Failure, lang: str) -> str:
    say = _wording(lang)
    if failure.kind == "validation":
        return say("fallback.validation")
    return say("fallback.failure", reason=reason(failure, lang))


# Key-shaped text, whoever's key it is: provider keys ("sk-…", "sk-proj-…", masked "sk-ab***yz"),
# bearer tokens and "api_key=…" pairs. A server may echo another key than the one we sent (an old
# one, a colleague's), and a cached reply may hold one from an earlier run.
_KEY_SHAPED = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9][A-Za-z0-9_*\-]{11,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/*\-]{8,}=*"
    r"|(?i:api[_-]?key|x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?[^\s\"',;}]{8,}"
)


def scrub_keys(text: str) -> str:
    """`text` with every key-shaped token replaced by "***" (known to us or not)."""
    return _KEY_SHAPED.sub("***", text)


def redact(text: str, secrets: list[str]) -> str:
    """`text` without the known `secrets` and without anything else shaped like an API key."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return scrub_keys(text)


def describe_for_log(exc: BaseException, failure: Failure, secrets: list[str], limit: int = 300) -> str:
    """One line for the log: kind, status, exception type and its message with every secret removed."""
    detail = redact(" ".join(str(exc).split()), secrets)
    if len(detail) > limit:
        detail = detail[:limit] + "…"
    status = f" HTTP {failure.status}" if failure.status is not None else ""
    return f"{failure.kind}{status} ({failure.exc_type}): {detail}"


def safe_error(exc: BaseException, lang: str = "en") -> LLMError:
    """An LLMError to raise in place of `exc`: a message from kind and status only."""
    failure = classify(exc)
    return LLMError(f"model call failed: {reason(failure, lang)}", kind=failure.kind, status=failure.status)


def known_secrets(*values: Any) -> list[str]:
    """Non-empty secret strings among `values` (str or pydantic SecretStr), for redaction."""
    out: list[str] = []
    for value in values:
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        if isinstance(raw, str) and raw.strip() and raw not in out:
            out.append(raw)
    return out
