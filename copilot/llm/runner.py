"""Run a skill through the chat model, check the answer, and fall back to the offline result.

`run_llm_skill`:

1. renders prompts/system.<lang>.md and prompts/<skill>.<lang>.md. The runner
   supplies `language`, `passages` (every passage retrieved through the
   request's Grounding, numbered C1, C2, … in retrieval order) and
   `schema_hint`; the skill supplies the rest (`deal`, `task_input`, …).
   The prompt is fitted to the model's context (copilot.llm.budget: passages
   left out, then the texts cut, with a "truncated" notice), and every message
   sent (the prompt, the model's earlier answer and the retry follow-up) goes
   through the privacy redaction when it is on (copilot.privacy: phone
   numbers, e-mails, ID and card numbers become placeholders; every string of
   the model's draft gets them restored; a "redaction" notice says what kinds
   and how many were replaced);
2. asks for structured output matching the skill's draft model
   (copilot.llm.draft) with method="json_schema", or "function_calling" once the
   server rejects json_schema (HTTP 400/422: DeepSeek and some local engines);
3. maps the cited ids to Grounding citations, builds the result (mode "llm",
   text = render(result)) and runs validate_fn(result);
4. if there are problems, asks once more with the problems listed (and its
   earlier answer, when that still fits the context; room for the follow-up is
   kept free in the first prompt);
5. with `stream` (a sink for the draft's preview, copilot.llm.streaming), the first
   answer is streamed token by token over SSE and checked once finished; when
   the streamed draft is not the answer in the end (its checks failed, or the
   endpoint failed mid-way), the result carries a "validation" notice saying
   the streamed text was replaced, so the correction is visible;
6. returns `offline_result` with a fallback notice when the answer still fails
   its checks, or when the endpoint fails (timeouts, refused connections, 429,
   5xx, a cut reply, invalid JSON, refusals) after `settings.max_retries`
   retries with exponential backoff and jitter, honouring Retry-After up to a
   cap. Refusals, rejected keys and other 4xx are not retried: the same request
   would fail the same way.

No exception from the endpoint escapes, and no message (notice, log line,
raised error) contains the API key: the user-facing text is built from the
failure's kind and HTTP status, and log lines are redacted.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from copilot.grounding import Grounding
from copilot.llm.budget import PromptTooLargeError, build_messages, fit_prompt
from copilot.llm.draft import draft_model, draft_schema_json, keep_decided, result_from_draft, schema_hint
from copilot.llm.errors import LLMError, StreamCutError
from copilot.llm.failures import Failure, classify, describe_for_log, fallback_message, known_secrets, safe_error
from copilot.llm.streaming import PreviewSink, stream_structured
from copilot.llm.usage import UsageMeter, count_prompt_tokens, load_prices
from copilot.privacy import Redactor, redaction_enabled
from copilot.prompts import language_name, render_prompt
from copilot.results import Citation, Notice, SkillResult, Usage
from copilot.settings import Settings
from copilot.text.limits import cut_to_tokens
from copilot.text.tokens import count_tokens

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger("copilot.llm")

R = TypeVar("R", bound=SkillResult)
RUNNER_VARIABLES = ("language", "passages", "schema_hint")
RETRY_RESERVE_TOKENS = 384
"""Kept free in the first prompt for the retry's follow-up (the problems, cut to fit), so a retry fits too."""
__all__ = ["RetryPolicy", "build_messages", "run_llm_skill", "stream_llm_text"]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for retryable failures: delay = min(max_delay, base * 2**attempt), half of it jittered.

    A server's Retry-After is honoured instead when it is at most `retry_after_cap_s`;
    a longer one is not waited for (the offline answer is shown at once).
    """

    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    retry_after_cap_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, failure: Failure) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to stop retrying."""
        if failure.retry_after_s is not None:
            return failure.retry_after_s if failure.retry_after_s <= self.retry_after_cap_s else None
        ceiling = min(self.max_delay_s, self.base_delay_s * float(2**attempt))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


class _StructuredRunnables:
    """`model.with_structured_output(draft_cls, method=..., include_raw=True)`, built once per model object.

    Building one converts the draft's schema (~10-20 ms for a brief) and does not depend on the request.
    An entry is used only for the very model object it was built from (its id, checked through a weak
    reference: a runnable keeps its model alive, so a live entry's id cannot be reused by another
    object); at most `size` entries are kept, so replaced models are let go.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, type[BaseModel], str], tuple[weakref.ref[Any], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model: BaseChatModel, draft_cls: type[BaseModel], method: str) -> Any:
        key = (id(model), draft_cls, method)
        with self._lock:
            item = self._items.get(key)
            if item is not None and item[0]() is model:
                self._items.move_to_end(key)
                return item[1]
        structured = model.with_structured_output(draft_cls, method=method, include_raw=True)
        try:
            ref = weakref.ref(model)
        except TypeError:  # a model class without weak references: not cached
            return structured
        with self._lock:
            self._items[key] = (ref, structured)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return structured


_STRUCTURED = _StructuredRunnables(size=64)


@lru_cache(maxsize=256)
def _schema_tokens(draft_cls: type[BaseModel], encoding: str) -> int:
    return count_tokens(draft_schema_json(draft_cls), encoding)


class _Failed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


@dataclass
class _StructuredCaller:
    """Asks the model for a draft, retrying retryable failures; switches to function calling if needed."""

    model: BaseChatModel
    draft_cls: type[BaseModel]
    max_retries: int
    policy: RetryPolicy
    secrets: list[str]
    skill: str
    method: str = "json_schema"
    sink: PreviewSink | None = None
    """Stream the reply's preview here (the first round only: set to None after it)."""
    restore: Callable[[str], str] | None = None

    def __call__(self, messages: Sequence[BaseMessage]) -> tuple[BaseModel, Any]:
        attempt = 0
        while True:
            try:
                return self._once(messages)
            except Exception as exc:
                failure = classify(exc)
                log.warning(
                    "LLM %s (%s) attempt %d failed: %s",
                    self.skill,
                    self.method,
                    attempt + 1,
                    describe_for_log(exc, failure, self.secrets),
                )
                if failure.kind == "rejected" and self.method == "json_schema":
                    self.method = "function_calling"  # the server does not take response_format json_schema
                    continue
                if not failure.retryable or attempt >= self.max_retries:
                    raise _Failed(failure) from None
                delay = self.policy.delay(attempt, failure)
                if delay is None:
                    raise _Failed(failure) from None
                self.policy.sleep(delay)
                attempt += 1

    def _once(self, messages: Sequence[BaseMessage]) -> tuple[BaseModel, Any]:
        structured = _STRUCTURED.get(self.model, self.draft_cls, self.method)
        if self.sink is not None:
            return stream_structured(structured, self.draft_cls, messages, self.sink, self.restore)
        out = structured.invoke(list(messages))
        if not isinstance(out, dict):
            raise TypeError("structured output without include_raw")
        if out.get("parsing_error") is not None:
            raise out["parsing_error"]
        parsed = out.get("parsed")
        if not isinstance(parsed, self.draft_cls):
            raise ValueError("the reply has no structured answer")
        return parsed, out.get("raw")


def _message_texts(messages: Sequence[BaseMessage]) -> list[str]:
    return [m.text for m in messages]


class _Outgoing:
    """What leaves the machine: messages with personal data replaced when redaction is on."""

    def __init__(self, redactor: Redactor | None) -> None:
        self.redactor = redactor
        self.sent: list[str] = []

    def text(self, text: str) -> str:
        return self.redactor.redact(text) if self.redactor is not None else text

    def messages(self, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
        out = [m.model_copy(update={"content": self.text(m.text)}) for m in messages]
        self.sent += [m.text for m in out]
        return out

    def restore_text(self, text: str) -> str:
        return self.redactor.restore(text) if self.redactor is not None else text

    def restore(self, draft: BaseModel) -> BaseModel:
        """The draft with this request's placeholders put back in every string field."""
        if self.redactor is None:
            return draft
        try:
            return type(draft).model_validate(self.redactor.restore_data(draft.model_dump()))
        except ValueError:  # a restored value the draft model rejects: keep the placeholders
            return draft

    def notice(self, lang: str) -> Notice | None:
        return self.redactor.notice(lang, self.sent) if self.redactor is not None else None


def _reply_text(raw: Any, draft: BaseModel) -> str:
    text = getattr(raw, "text", "")
    return text if isinstance(text, str) and text else draft.model_dump_json()


CORRECTION_REASONS = ("validation", "failure")


def correction_notice(lang: str, why: str) -> Notice:
    """The visible correction when streamed text is replaced: `why` is "validation" or "failure"
    (wording: prompts/offline/<lang>/streaming.yaml)."""
    from copilot.wording import wording

    say = wording("streaming", "zh" if lang == "zh" else "en")
    return Notice(kind="validation", message=say("correction", why=say(f"why.{why}")))


def is_correction(notice: Notice) -> bool:
    """Whether `notice` is the one saying streamed text was replaced."""
    return notice.kind == "validation" and any(
        notice.message == correction_notice(lang, why).message for lang in ("zh", "en") for why in CORRECTION_REASONS
    )


def _fallback(
    offline_result: R, failure: Failure, lang: str, usage: Usage, extra: Sequence[Notice | None] = (), message: str = ""
) -> R:
    notice = Notice(kind="fallback", message=message or fallback_message(failure, lang))
    update: dict[str, Any] = {"notices": [*offline_result.notices, notice, *(n for n in extra if n is not None)]}
    if usage.prompt_tokens or usage.completion_tokens:
        update["usage"] = usage  # tokens were spent (and billed) even though the answer is the offline one
    return offline_result.model_copy(update=update)


def run_llm_skill(
    model: BaseChatModel,
    *,
    skill: str,
    lang: str,
    variables: Mapping[str, Any],
    result_cls: type[R],
    grounding: Grounding,
    offline_result: R,
    render: Callable[[R], str],
    validate_fn: Callable[[R], list[str]],
    settings: Settings,
    retry: RetryPolicy | None = None,
    stream: PreviewSink | None = None,
) -> R:
    """The skill's answer from the model, checked; or `offline_result` with a fallback notice.

    `stream`: receives the first answer's preview as the model writes it (see the module's docs).
    """
    from langchain_core.messages import AIMessage, HumanMessage

    clash = sorted(set(variables) & set(RUNNER_VARIABLES))
    if clash:
        raise ValueError(f"run_llm_skill supplies {clash[0]!r} itself; do not pass it in variables")
    draft_cls = draft_model(result_cls)
    all_variables = {"language": language_name(lang), "schema_hint": schema_hint(draft_cls), **variables}
    model_name = settings.model or getattr(model, "model_name", None)
    meter = UsageMeter(model_name, load_prices(settings), settings.tokenizer_encoding)
    outgoing = _Outgoing(Redactor() if redaction_enabled(settings) else None)
    schema_tokens = _schema_tokens(draft_cls, settings.tokenizer_encoding)
    try:
        fitted = fit_prompt(
            skill,
            lang,
            all_variables,
            list(grounding.hits.values()),
            settings,
            schema_tokens=schema_tokens,
            outgoing=outgoing.text,
            reserve_tokens=RETRY_RESERVE_TOKENS,
        )
    except PromptTooLargeError as exc:
        log.warning("LLM %s not called: %s", skill, exc)
        return _fallback(offline_result, Failure("context"), lang, meter.usage(), message=exc.message(lang))
    messages, by_id = fitted.messages, fitted.by_id
    encoding = settings.tokenizer_encoding
    room = fitted.budget - schema_tokens
    fit_notice = fitted.notice(settings)
    secrets = known_secrets(settings.api_key, getattr(model, "openai_api_key", None))
    caller = _StructuredCaller(model, draft_cls, settings.max_retries, retry or RetryPolicy(), secrets, skill)
    streamed: list[bool] = []  # something was shown from the stream
    if stream is not None:
        sink = stream

        def shown(text: str) -> None:
            streamed.append(True)
            sink(text)

        caller.sink = shown
        caller.restore = outgoing.restore_text

    def cite(pid: str) -> Citation | None:
        hit = by_id.get(pid)
        return grounding.cite(hit) if hit is not None else None

    problems: list[str] = []
    for round_ in range(2):
        sent = outgoing.messages(messages)
        try:
            draft, raw = caller(sent)
        except _Failed as failed:
            fixed = correction_notice(lang, "failure") if streamed else None
            return _fallback(offline_result, failed.failure, lang, meter.usage(), [outgoing.notice(lang), fixed])
        caller.sink = None  # a retry is not streamed: its answer replaces the draft once checked
        meter.record(_message_texts(sent), raw, _reply_text(raw, draft))
        result, problems = result_from_draft(result_cls, outgoing.restore(draft), lang=lang, cite=cite)
        if result is not None:
            result, decided = keep_decided(result, offline_result)
            if decided:  # the code's fields quote cited passages: their citations come along
                known = {c.chunk_id for c in result.citations}
                extra = [c for c in offline_result.citations if c.chunk_id not in known]
                result = result.model_copy(update={"citations": [*result.citations, *extra]})
            result = result.model_copy(update={"text": render(result)})
            problems += validate_fn(result)
            if not problems:
                fixed = correction_notice(lang, "validation") if streamed and round_ > 0 else None
                notices = [n for n in (fit_notice, outgoing.notice(lang), fixed) if n is not None]
                return result.model_copy(update={"usage": meter.usage(), "notices": [*result.notices, *notices]})
        log.info("LLM %s answer failed its checks (round %d): %s", skill, round_ + 1, "; ".join(problems))
        if round_ == 0:
            listed = cut_to_tokens("\n".join(f"- {p}" for p in problems), RETRY_RESERVE_TOKENS - 128, encoding)
            follow_up = render_prompt("retry", lang, {"problems": listed.text})
            retry_messages = [*messages, AIMessage(content=draft.model_dump_json()), HumanMessage(content=follow_up)]
            if count_prompt_tokens([outgoing.text(m.text) for m in retry_messages], encoding) > room:
                retry_messages = [*messages, HumanMessage(content=follow_up)]  # the earlier answer does not fit
            messages = retry_messages
    fixed = correction_notice(lang, "validation") if streamed else None
    return _fallback(offline_result, Failure("validation"), lang, meter.usage(), [outgoing.notice(lang), fixed])


def stream_llm_text(model: BaseChatModel, messages: Sequence[BaseMessage]) -> Iterator[str]:
    """Stream the reply's text. Ends normally only when the model finished its reply.

    Raises StreamCutError if the stream ends without a finish reason (what was yielded
    is partial) and LLMError (kind, HTTP status; no server text, no key) if the endpoint
    fails. Either may come after some text was already yielded.
    """
    finished = False
    try:
        for chunk in model.stream(list(messages)):
            if chunk.response_metadata.get("finish_reason"):
                finished = True
            text = str(chunk.text)
            if text:
                yield text
    except LLMError:
        raise
    except Exception as exc:
        raise safe_error(exc) from None
    if not finished:
        raise StreamCutError()
