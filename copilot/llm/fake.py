"""A scripted fake chat model, shipped in the package so tests (ours and the skills') need no server.

    model = ScriptedChatModel(script=[
        {"verdict": "fit", "reasons": ["..."], "alternative": None, "cited": ["C1"]},  # JSON
        TimeoutError("scripted"),                                                      # raised
        "plain text reply",                                                            # text
        CutReply("a reply that stops"),                                               # cut stream
    ])

Each call (invoke, stream, or a structured call) takes the next item. A dict, list
or pydantic model is replied as JSON; an exception is raised; a CutReply streams
its text and ends without a finish reason (invoke returns it unfinished too).
`with_structured_output(schema, method=..., include_raw=...)` parses the reply
into `schema` the way langchain-openai does ({raw, parsed, parsing_error} with
include_raw). Every call's messages are kept in `prompts`, and the structured
method used in `methods`, so tests can check what the model was asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field


@dataclass(frozen=True)
class CutReply:
    """A reply that stops before the model finished (no finish reason)."""

    text: str


class ScriptExhaustedError(RuntimeError):
    """The fake model was called more often than its script allows."""


class ScriptedChatModel(FakeMessagesListChatModel):
    responses: list[BaseMessage] = Field(default_factory=list)  # unused; the script replaces it
    script: list[Any] = Field(default_factory=list)
    """Replies in order: str (text), dict/list/BaseModel (JSON), BaseException (raised), CutReply."""
    chunk_size: int = 4
    """Characters per streamed chunk."""
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    methods: list[str | None] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake-chat-model"

    @property
    def remaining(self) -> int:
        return len(self.script) - self.i

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> tuple[str, bool]:
        """(reply text, finished) for this call; raises a scripted exception."""
        self.prompts.append(list(messages))
        self.methods.append(kwargs.get("structured_method"))
        if self.i >= len(self.script):
            raise ScriptExhaustedError(f"the scripted model has only {len(self.script)} replies")
        item = self.script[self.i]
        self.i += 1
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, CutReply):
            return item.text, False
        if isinstance(item, BaseModel):
            return item.model_dump_json(), True
        if isinstance(item, dict | list):
            return json.dumps(item, ensure_ascii=False), True
        return str(item), True

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text, finished = self._next(messages, kwargs)
        meta = {"finish_reason": "stop"} if finished else {}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, response_metadata=meta))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text, finished = self._next(messages, kwargs)
        for start in range(0, len(text), self.chunk_size):
            piece = text[start : start + self.chunk_size]
            if run_manager:
                run_manager.on_llm_new_token(piece)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        if finished:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"finish_reason": "stop"}))

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(**kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: str = "json_schema",
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise TypeError("ScriptedChatModel supports pydantic schemas only")
        model_cls: type[BaseModel] = schema

        def parse(message: Any) -> Any:
            text = message.text if isinstance(message, BaseMessage) else str(message)
            if not include_raw:
                return model_cls.model_validate_json(text)
            try:
                return {"raw": message, "parsed": model_cls.model_validate_json(text), "parsing_error": None}
            except ValueError as exc:
                return {"raw": message, "parsed": None, "parsing_error": exc}

        return self.bind(structured_method=method) | RunnableLambda(parse)
