"""Structured output streamed token by token: the draft's prose shown while the model writes it.

The model fills a typed draft (copilot.llm.draft) as JSON: json_schema content, or the
arguments of a tool call. `stream_structured` asks for the same structured output as the
non-streaming call, but over SSE (`model.stream`), and hands every change of the draft's
*preview* to a sink as the tokens arrive. The preview is the draft's text as a person reads
it: the string values of the partial JSON in the order the model writes them (the `cited`
ids and the echo of the user's own question left out), paragraphs joined by blank lines.
JSON grows at its end, so the preview does too; a placeholder of the privacy redaction
("[PHONE_1]") is held back until it is complete and then shown restored.

When the stream ends the reply is parsed and validated exactly like a non-streamed one: the
caller (copilot.llm.runner) runs the validators on the finished draft, and only then is it an
answer. A stream that ends without a finish reason raises StreamCutError; a refusal or JSON
that does not fit the draft raises like langchain's own parsers do.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from copilot.llm.errors import LLMError, StreamCutError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage

# Streaming a json_schema answer, langchain-openai dumps the SDK's final `ParsedChatCompletion`, whose `parsed`
# is typed None but holds the draft: pydantic warns on every streamed answer. The draft is parsed here anyway.
warnings.filterwarnings(
    "ignore", message=r"Pydantic serializer warnings", category=UserWarning, module=r"pydantic\.main"
)

PreviewSink = Callable[[str], None]
"""Receives the whole preview so far each time it grows (or changes: a retried stream starts again)."""
SKIPPED_KEYS = frozenset({"cited", "question", "objection", "input", "task_input"})
PLACEHOLDER_MAX = 12
"""A "[" this close to the end may open a redaction placeholder still being written: held back."""


def _strings(value: Any, key: str | None = None) -> list[str]:
    if key in SKIPPED_KEYS:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, str(k))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class DraftPreview:
    """The readable text of a JSON draft that is still being written."""

    def __init__(self, restore: Callable[[str], str] | None = None) -> None:
        self.raw = ""
        self.restore = restore
        self.shown = ""

    def feed(self, piece: str) -> str | None:
        """Add a piece of the JSON; the new preview if it changed, else None."""
        from langchain_core.utils.json import parse_partial_json

        self.raw += piece
        try:
            partial = parse_partial_json(self.raw)
        except (ValueError, json.JSONDecodeError):
            return None
        text = "\n\n".join(_strings(partial))
        opening = text.rfind("[")
        if opening >= 0 and "]" not in text[opening:] and len(text) - opening <= PLACEHOLDER_MAX:
            text = text[:opening]
        if self.restore is not None:
            text = self.restore(text)
        if text == self.shown:
            return None
        self.shown = text
        return text


def _raw_bound(structured: Any) -> Any:
    """The model call inside a `with_structured_output(..., include_raw=True)` runnable (its first step)."""
    first = getattr(structured, "first", None)
    steps = getattr(first, "steps__", None)
    if isinstance(steps, dict) and "raw" in steps:
        return steps["raw"]  # langchain-openai: RunnableMap(raw=llm) | parser
    if first is not None:
        return first  # the scripted fake: bound model | parser
    raise TypeError("cannot stream this structured-output runnable")


def _piece(chunk: Any) -> str:
    """The JSON text a chunk adds: content (json_schema) or the tool call's arguments (function calling)."""
    calls = getattr(chunk, "tool_call_chunks", None) or []
    if calls:
        return "".join(str(c.get("args") or "") for c in calls)
    return str(chunk.text)


def stream_structured(
    structured: Any,
    draft_cls: type[BaseModel],
    messages: Sequence[BaseMessage],
    sink: PreviewSink,
    restore: Callable[[str], str] | None = None,
) -> tuple[BaseModel, Any]:
    """(the parsed draft, the whole reply message), streaming the preview to `sink` on the way."""
    bound = _raw_bound(structured)
    preview = DraftPreview(restore)
    full: Any = None
    finished = False
    try:
        for chunk in bound.stream(list(messages)):
            full = chunk if full is None else full + chunk
            if chunk.response_metadata.get("finish_reason"):
                finished = True
            text = preview.feed(_piece(chunk))
            if text is not None:
                sink(text)
    except AssertionError:
        # The SDK's stream accumulator asserts when the body holds no chunk it can read (plain JSON where SSE was
        # asked for, an empty stream): the reply is unreadable, like invalid JSON in a non-streamed call.
        raise LLMError("the model's streamed reply could not be read", kind="invalid_output") from None
    if full is None or not finished:
        raise StreamCutError()
    refusal = (getattr(full, "additional_kwargs", None) or {}).get("refusal")
    if refusal:
        from langchain_core.exceptions import ModelRefusalError

        raise ModelRefusalError(raw_message=full)
    return draft_cls.model_validate_json(preview.raw or "{}"), full


def model_supports_streaming(model: BaseChatModel) -> bool:
    """Whether `model` streams for real (its own `_stream`), rather than answering in one piece."""
    from langchain_core.language_models.chat_models import BaseChatModel as Base

    return type(model)._stream is not Base._stream
