"""The app's gr.Blocks: an output a handler skips (gr.skip()) costs nothing.

Gradio 6 treats gr.skip() (an update with nothing in it) like any property update: for every skipped
output of every yield it builds the component again from its constructor arguments and recomputes its
config (`Blocks.postprocess_data`). A chat turn skips up to nine outputs per yield; under load that was
about 7 % of the app's CPU (bench/load.py's profile, bench/RESULTS.md). A skip changes nothing, so it is
answered here with the update Gradio itself sends for it, {"__type__": "update"}, without the rebuild
(tests/test_ui_blocks.py checks both give the same outputs). Everything else goes through Gradio as is.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.block_function import BlockFunction
from gradio.components.base import _Keywords
from gradio.state_holder import SessionState

SKIPPED: dict[str, str] = {"__type__": "update"}
"""What gr.skip() returns and what Gradio sends to the browser for it."""


def _is_skip(value: Any) -> bool:
    return isinstance(value, dict) and value == SKIPPED


class AppBlocks(gr.Blocks):
    """gr.Blocks whose skipped outputs are not rebuilt."""

    async def postprocess_data(
        self, block_fn: BlockFunction, predictions: list[Any] | dict[str, Any], state: SessionState | None
    ) -> list[Any]:
        outputs = list(block_fn.outputs)
        if block_fn.batch or len(outputs) < 2 or not isinstance(predictions, (list, tuple)):
            return await super().postprocess_data(block_fn, predictions, state)
        skipped = [
            i
            for i, (value, block) in enumerate(zip(predictions, outputs, strict=False))
            if _is_skip(value) and not block.stateful
        ]
        if not skipped:
            return await super().postprocess_data(block_fn, predictions, state)
        passed = list(predictions)
        for i in skipped:
            passed[i] = _Keywords.FINISHED_ITERATING  # Gradio's own "leave this output alone" marker
        output = await super().postprocess_data(block_fn, passed, state)
        for i in skipped:
            output[i] = dict(SKIPPED)
        return output
