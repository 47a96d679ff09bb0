"""The app's gr.Blocks: a skipped output and a chat of text cost Gradio no per-node work.

Two things `Blocks.postprocess_data` (Gradio 6) does for every output of every yield cost a chat turn
more than the copilot's own work under load (bench/load.py's profile, bench/RESULTS.md), and change
nothing for this app:

- gr.skip() (an update with nothing in it) is treated like any property update: the component is built
  again from its constructor arguments and its config recomputed. A chat turn skips up to nine outputs
  per yield. Here a skip is answered with the update Gradio itself sends for it, {"__type__": "update"}.
- The Chatbot's whole value is walked node by node looking for files to move to Gradio's cache, every
  yield, so the cost grows with the conversation. A chat whose messages hold only text (this app's: its
  replies, citations and notes are Markdown) has no file to move: its value is sent as Gradio's own
  postprocess gives it, without the walk. A message with a file or a component goes through Gradio.
  Each message is dumped to JSON-ready data once: a kept conversation (ui/chat_view.py) hands the same
  message objects every turn, so only the new ones are dumped.

tests/test_ui_blocks.py checks that the outputs and the session's state are Gradio's own in every case.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import anyio
import gradio as gr
from gradio.block_function import BlockFunction
from gradio.blocks import Block
from gradio.components.base import _Keywords
from gradio.components.chatbot import ChatbotDataMessages, Message, TextMessage
from gradio.state_holder import SessionState

SKIPPED: dict[str, str] = {"__type__": "update"}
"""What gr.skip() returns and what Gradio sends to the browser for it."""

DUMPS_KEPT = 8192
"""Chat messages whose dumped data is kept (least recently used out first): the kept conversations' own."""


class _Dumps:
    """`message.model_dump()` once per message object (kept with it, so its id cannot be reused meanwhile).

    The data is shared between yields and sessions: Gradio reads a text message's data, never changes it."""

    def __init__(self, size: int = DUMPS_KEPT) -> None:
        self.size = size
        self._kept: OrderedDict[int, tuple[Message, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, message: Message) -> dict[str, Any]:
        with self._lock:
            hit = self._kept.get(id(message))
            if hit is not None and hit[0] is message:
                self._kept.move_to_end(id(message))
                return hit[1]
        dumped = message.model_dump()
        with self._lock:
            self._kept[id(message)] = (message, dumped)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return dumped


def _is_update(value: Any) -> bool:
    return isinstance(value, Block) or (isinstance(value, dict) and value.get("__type__") == "update")


def _text_only(data: ChatbotDataMessages) -> bool:
    return all(isinstance(part, TextMessage) for message in data.root for part in message.content)


class AppBlocks(gr.Blocks):
    """gr.Blocks whose skipped outputs are not rebuilt and whose text chats are not walked for files."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dumps = _Dumps()

    async def postprocess_data(
        self, block_fn: BlockFunction, predictions: list[Any] | dict[str, Any], state: SessionState | None
    ) -> list[Any]:
        outputs = list(block_fn.outputs)
        if block_fn.batch or len(outputs) < 2 or not isinstance(predictions, (list, tuple)) or state is None:
            return await super().postprocess_data(block_fn, predictions, state)
        done: dict[int, Any] = {}
        for i, (value, block) in enumerate(zip(predictions, outputs, strict=False)):
            if block.stateful:
                continue
            if isinstance(value, dict) and value == SKIPPED:
                done[i] = dict(SKIPPED)
            elif isinstance(block, gr.Chatbot) and block_fn.postprocess and not _is_update(value):
                chat = await self._text_chat(block, value, state)
                if chat is not None:
                    done[i] = chat
        if not done:
            return await super().postprocess_data(block_fn, predictions, state)
        # Gradio's own "leave this output alone" marker for the outputs answered here.
        passed = [_Keywords.FINISHED_ITERATING if i in done else value for i, value in enumerate(predictions)]
        output = await super().postprocess_data(block_fn, passed, state)
        for i, value in done.items():
            output[i] = value
        return output

    async def _text_chat(self, block: gr.Chatbot, value: Any, state: SessionState) -> Any:
        """The chat's value as Gradio sends it, when every message is text; None to leave it to Gradio."""
        shown = state.get(block._id, block)
        try:  # in a worker thread, as Gradio does: a resumed conversation's messages are built here
            data = await anyio.to_thread.run_sync(shown.postprocess, value, limiter=self.limiter)
        except Exception:  # Gradio does it again and reports the problem its own way
            return None
        if not isinstance(data, ChatbotDataMessages) or not _text_only(data):
            return None
        serialized = [self._dumps(message) for message in data.root]  # as data.model_dump() gives it
        if block._id not in state:
            state[block._id] = block
        state._update_value_in_config(block._id, serialized)
        return serialized
