"""A figure the question states that the cited passages give differently: "the question says 3 days, the source 2.2 s".

Figures are compared only on the same scale: each figure's unit is read from the words around it and
normalised across languages with the unit table of copilot/skills/data/ask.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol, TypeVar

import yaml

from copilot.text.numbers import Figure, find_figures, same_value

_DATA = Path(__file__).resolve().parent / "data" / "ask.yaml"
_PREFIX_UNITS = ("us$", "a$", "$", "€", "¥", "rmb", "usd", "eur", "aud", "cny")
_STOPS = "，。？?！!、,.;；:：)）"


class _Scored(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...


S = TypeVar("S", bound=_Scored)


@cache
def _units() -> tuple[dict[str, str], list[str]]:
    raw = yaml.safe_load(_DATA.read_text(encoding="utf-8"))["units"]
    unit_of = {str(alias): unit for unit, aliases in raw.items() for alias in aliases}
    non_ascii = sorted((a for a in unit_of if not a.isascii()), key=len, reverse=True)
    return unit_of, non_ascii


def unit_of(text: str, fig: Figure) -> tuple[str, int, int] | None:
    """The unit a figure is stated in ("2.2秒", "7 days", "US$85m", "33%"), normalised across languages.

    Returns the unit and the span (start, end) of the figure with its unit as written.
    """
    unit_table, non_ascii = _units()
    before = text[: fig.start].rstrip().lower()
    end = fig.start + len(fig.text)
    for prefix in _PREFIX_UNITS:
        if before.endswith(prefix):
            return unit_table[prefix], len(before) - len(prefix), end
    after = text[end:]
    gap = len(after) - len(after.lstrip())
    after = after.lstrip()
    for alias in non_ascii:
        if after.startswith(alias):
            return unit_table[alias], fig.start, end + gap + len(alias)
    match = re.match(r"(per cent|%|[A-Za-z]+)", after)
    if match:
        word = match.group(1).lower()
        span_end = end + gap + len(match.group(1))
        if word in unit_table:
            return unit_table[word], fig.start, span_end
        return (word[:-1] if word.endswith("s") and len(word) > 3 else word), fig.start, span_end
    if after[:1] and not after[:1].isspace() and after[:1] not in _STOPS:
        return after[:1], fig.start, end + gap + 1
    return None


def contradiction(question: str, sentences: Sequence[S]) -> tuple[str, S] | None:
    """A figure the question states that the cited passages give differently on the same scale."""
    for fig in find_figures(question):
        claimed = unit_of(question, fig)
        if claimed is None:
            continue
        unit, start, end = claimed
        stated = []
        for sentence in sentences:
            for other in find_figures(sentence.text):
                found = unit_of(sentence.text, other)
                if found is not None and found[0] == unit and other.value > 0:
                    stated.append((sentence, other))
        if not stated or any(same_value(other.value, fig.value) for _, other in stated):
            continue
        best = max(stated, key=lambda pair: pair[0].score)[0]
        return question[start:end].strip(), best
    return None
