"""ui/blocks.py: skipped outputs and text chats are sent as Gradio sends them, without its rebuild or walk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio import processing_utils
from gradio.state_holder import SessionState

from ui.blocks import AppBlocks

CHAT: list[dict[str, Any]] = [
    {"role": "user", "content": "风险有哪些？"},
    {"role": "assistant", "content": "**数据质量** [1]"},
    {"role": "assistant", "content": "passage", "metadata": {"title": "[1] TradeLens", "status": "done"}},
]


def _app(cls: type[gr.Blocks]) -> tuple[gr.Blocks, Any]:
    with cls() as demo:
        box = gr.Textbox()
        choice = gr.Dropdown(choices=["a", "b"], value="a")
        note = gr.Markdown()
        button = gr.Button("go")
        kept = gr.State([])
        chat = gr.Chatbot(group_consecutive_messages=True)
        button.click(lambda: None, None, [box, choice, note, kept, button, chat])
    return demo, demo.fns[0]


def _outputs(cls: type[gr.Blocks], predictions: list[Any]) -> tuple[list[Any], Any, Any]:
    """The outputs sent to the browser, what the session's state holds, and the chat's value in its config."""
    demo, fn = _app(cls)
    state = SessionState(demo)
    outputs = asyncio.run(demo.postprocess_data(fn, list(predictions), state))
    chat = fn.outputs[5]._id
    shown = state.config_values[chat].get("props", {}).get("value") if chat in state.config_values else None
    return outputs, state[fn.outputs[3]._id], shown


def _built(messages: list[dict[str, Any]]) -> list[Any]:
    return list(gr.Chatbot().postprocess(messages).root)  # type: ignore[arg-type]


CASES: list[Callable[[], list[Any]]] = [  # made afresh for each app: Gradio changes an update dict it is given
    lambda: [gr.skip()] * 6,
    lambda: ["typed", gr.skip(), "**note**", [1, 2], gr.skip(), CHAT],
    lambda: [gr.skip(), gr.update(choices=["a", "c"], value="c"), gr.skip(), gr.skip(), gr.update(visible=False), []],
    lambda: [gr.skip(), gr.skip(), gr.skip(), gr.update(value=[3]), gr.Button(visible=True), _built(CHAT)],
    lambda: [gr.skip()] * 5 + [gr.update(label="chat")],
]


@pytest.mark.parametrize("predictions", CASES)
def test_the_outputs_are_gradios_own(predictions: Callable[[], list[Any]]) -> None:
    assert _outputs(AppBlocks, predictions()) == _outputs(gr.Blocks, predictions())


def test_a_chat_with_a_file_is_left_to_gradio(tmp_path: Path) -> None:
    picture = tmp_path / "chart.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    chat = [*CHAT, {"role": "assistant", "content": {"path": str(picture)}}]
    ours, _, _ = _outputs(AppBlocks, [gr.skip()] * 5 + [chat])
    file_part = ours[5][-1]["content"][0]
    assert file_part["type"] == "file" and "/file=" in file_part["file"]["url"]  # moved to Gradio's cache


def test_a_skipped_output_is_not_rebuilt_nor_a_text_chat_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    walked: list[Any] = []
    original = gr.Dropdown.__init__
    original_walk = processing_utils.async_move_files_to_cache

    def counting(self: gr.Dropdown, *args: Any, **kwargs: Any) -> None:
        built.append("dropdown")
        original(self, *args, **kwargs)

    async def walking(data: Any, block: Any, **kwargs: Any) -> Any:
        walked.append(type(block).__name__)
        return await original_walk(data, block, **kwargs)

    demo, fn = _app(AppBlocks)
    monkeypatch.setattr(gr.Dropdown, "__init__", counting)
    monkeypatch.setattr(processing_utils, "async_move_files_to_cache", walking)
    state = SessionState(demo)
    asyncio.run(demo.postprocess_data(fn, [gr.skip()] * 5 + [CHAT], state))
    assert built == [] and "Chatbot" not in walked
    asyncio.run(demo.postprocess_data(fn, [gr.skip(), gr.update(value="b"), *[gr.skip()] * 4], state))
    assert built == ["dropdown"]  # a real update still goes through Gradio


def test_a_kept_message_is_dumped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio.components.chatbot import Message

    demo, fn = _app(AppBlocks)
    state = SessionState(demo)
    kept = _built(CHAT)  # a kept conversation hands the same message objects every turn
    dumped: list[str] = []
    original = Message.model_dump

    def counting(self: Message, *args: Any, **kwargs: Any) -> Any:
        dumped.append(self.role)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Message, "model_dump", counting)
    first = asyncio.run(demo.postprocess_data(fn, [gr.skip()] * 5 + [kept], state))
    later = [*kept, *_built([{"role": "user", "content": "next"}])]
    second = asyncio.run(demo.postprocess_data(fn, [gr.skip()] * 5 + [later], state))
    assert len(dumped) == len(kept) + 1  # only the new message the second time
    assert second[5][: len(kept)] == first[5] and second[5][-1]["content"][0]["text"] == "next"
