"""ui/blocks.py: a skipped output is answered as Gradio answers it, without rebuilding the component."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import gradio as gr
import pytest
from gradio.state_holder import SessionState

from ui.blocks import AppBlocks


def _app(cls: type[gr.Blocks]) -> tuple[gr.Blocks, Any]:
    with cls() as demo:
        box = gr.Textbox()
        choice = gr.Dropdown(choices=["a", "b"], value="a")
        note = gr.Markdown()
        button = gr.Button("go")
        kept = gr.State([])
        button.click(lambda: None, None, [box, choice, note, kept, button])
    return demo, demo.fns[0]


def _outputs(cls: type[gr.Blocks], predictions: list[Any]) -> tuple[list[Any], Any]:
    """The outputs sent to the browser, and what the session's state holds after them."""
    demo, fn = _app(cls)
    state = SessionState(demo)
    outputs = asyncio.run(demo.postprocess_data(fn, list(predictions), state))
    return outputs, state[fn.outputs[3]._id]


CASES: list[Callable[[], list[Any]]] = [  # made afresh for each app: Gradio changes an update dict it is given
    lambda: [gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()],
    lambda: ["typed", gr.skip(), "**note**", [1, 2], gr.skip()],
    lambda: [gr.skip(), gr.update(choices=["a", "b", "c"], value="c"), gr.skip(), gr.skip(), gr.update(visible=False)],
    lambda: [gr.skip(), gr.skip(), gr.skip(), gr.update(value=[3]), gr.Button(visible=True)],
]


@pytest.mark.parametrize("predictions", CASES)
def test_the_outputs_are_gradios_own(predictions: Callable[[], list[Any]]) -> None:
    ours, our_kept = _outputs(AppBlocks, predictions())
    theirs, their_kept = _outputs(gr.Blocks, predictions())
    assert ours == theirs
    assert our_kept == their_kept  # a state's update (or skip) is kept the same way


def test_a_skipped_output_is_not_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    original = gr.Dropdown.__init__

    def counting(self: gr.Dropdown, *args: Any, **kwargs: Any) -> None:
        built.append("dropdown")
        original(self, *args, **kwargs)

    demo, fn = _app(AppBlocks)
    monkeypatch.setattr(gr.Dropdown, "__init__", counting)
    state = SessionState(demo)
    asyncio.run(demo.postprocess_data(fn, [gr.skip()] * 5, state))
    assert built == []
    asyncio.run(demo.postprocess_data(fn, [gr.skip(), gr.update(value="b"), gr.skip(), gr.skip(), gr.skip()], state))
    assert built == ["dropdown"]  # a real update still goes through Gradio
