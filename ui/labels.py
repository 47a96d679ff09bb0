"""The interface language: every label in one language (prompts/offline/<lang>/ui.yaml), switchable.

Components register the attributes that carry words (label, value of a button, placeholder,
choices) with their wording key, or a function of the language for computed values. The switch in
the header re-renders them all: one language at a time instead of doubled labels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from copilot.wording import Wording

C = TypeVar("C")
Value = str | Callable[[str], Any]


def ui_text(lang: str, key: str, **variables: Any) -> str:
    return Wording("ui", lang if lang in ("zh", "en") else "zh")(key, **variables)


class Labels:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in ("zh", "en") else "zh"
        self.entries: list[tuple[Any, dict[str, Value]]] = []
        self.switch: Any = None
        """The interface-language switch (set by the app once created): an input for handlers whose messages
        must be in the language shown now, not the one the page started in."""

    def t(self, key: str, **variables: Any) -> str:
        """The text of `key` in the language the page starts in."""
        return ui_text(self.lang, key, **variables)

    def all(self, key: str) -> list[str]:
        """A list entry of ui.yaml in the language the page starts in."""
        return Wording("ui", self.lang).all(key)

    def reg(self, component: C, **attributes: Value) -> C:
        """Register `component`: attribute -> wording key (or a function of the language)."""
        self.entries.append((component, attributes))
        return component

    def language_input(self) -> Any:
        if self.switch is None:
            raise RuntimeError("the interface-language switch is created before the tabs")
        return self.switch

    def components(self) -> list[Any]:
        return [component for component, _ in self.entries]

    def updates(self, lang: str) -> list[Any]:
        """One update per registered component, its words in `lang`."""
        out = []
        update: Any = gr.update
        for _, attributes in self.entries:
            values = {a: (v(lang) if callable(v) else ui_text(lang, v)) for a, v in attributes.items()}
            out.append(update(**values))
        return out
