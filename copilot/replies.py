"""A reply as events: the finished text in pieces offline, the model's draft token by token in LLM mode.

`stream_events` runs one skill call. Offline the finished text is sent in pieces.
In LLM mode the call runs in a worker thread with `PREVIEW` set to a queue: the
runner (copilot.llm.runner, `stream=`) puts the draft's preview there as the model
writes it, and the caller's thread yields the new text as "text" events while the
model is still writing. Once the answer is finished and checked, one "replace" event
carries the text to show instead of the draft (the rendered result, or the offline
one with a notice when the draft failed its checks).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar, copy_context
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from copilot.deal import Deal
from copilot.results import Citation, Notice, SkillResult
from copilot.router import Route

R = TypeVar("R", bound=SkillResult)
STREAM_PIECE_CHARS = 24
PREVIEW: ContextVar[Callable[[str], None] | None] = ContextVar("copilot_preview", default=None)
"""Where the model's draft of the running skill call goes (None: not streamed)."""


class ChatEvent(BaseModel):
    """What `Copilot.chat` yields: the UI and the REPL render these as they arrive."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["route", "text", "replace", "citations", "notice", "result", "done", "deal"]
    """"text": more of the reply; "replace": the whole reply, instead of the text sent so far (the last
    "replace" of an LLM reply carries the checked result in `result`; an earlier one restarts a retried stream)."""
    skill: Route | None = None
    """The route the turn took (explain, objection, …, card, negotiate, roleplay, recap, ask)."""
    answered_by: str | None = None
    """The skill that answered (the route's own, or the closest available one)."""
    next_label: str | None = None
    next_prompt: str | None = None
    """The next skill the chat offers: a button label and the message it sends."""
    deal: Deal | None = Field(default=None, description="kind 'deal': the deal with a constraint the message stated")
    text: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    notice: Notice | None = None
    result: Any = None


def stream_events(call: Callable[[], R], done: Callable[[R], None], *, llm: bool) -> Iterator[ChatEvent]:
    """Run `call` and yield its reply as events; `done` receives the result before the last event."""
    if not llm:
        result = call()
        done(result)
        for start in range(0, len(result.text), STREAM_PIECE_CHARS):
            yield ChatEvent(kind="text", text=result.text[start : start + STREAM_PIECE_CHARS])
        return
    items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def work() -> None:
        PREVIEW.set(lambda text: items.put(("preview", text)))
        try:
            items.put(("result", call()))
        except BaseException as exc:  # re-raised in the caller's thread
            items.put(("error", exc))

    threading.Thread(target=copy_context().run, args=(work,), name="copilot-stream", daemon=True).start()
    shown = ""
    while True:
        kind, value = items.get()
        if kind == "error":
            raise value
        if kind == "result":
            done(value)
            yield ChatEvent(kind="replace", text=value.text, result=value)  # the final one carries the result
            return
        if value.startswith(shown):
            yield ChatEvent(kind="text", text=value[len(shown) :])
        else:  # a retried stream started again
            yield ChatEvent(kind="replace", text=value)
        shown = value
