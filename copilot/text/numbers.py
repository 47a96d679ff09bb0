"""Find the numbers in a text and normalise them, in Chinese and English.

Used to check that every number a user sees comes from a source: the corpus
audit compares corpus documents with the research fact sheets, and the skill
validators compare outputs with the input and the cited passages.

A number is matched by value, so "RMB 1.3bn", "13亿元" and "1,300,000,000"
are the same figure, and dates by their calendar value, so "2018年8月10日"
and "10 Aug 2018" are the same date.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data" / "numbers.yaml"


@dataclass(frozen=True)
class _Notation:
    """The patterns and multipliers of data/numbers.yaml, compiled once."""

    months: Mapping[str, int]
    zh_date: re.Pattern[str]
    en_date_dmy: re.Pattern[str]
    en_date_my: re.Pattern[str]
    en_date_mdy: re.Pattern[str]
    en_date_range: re.Pattern[str]
    number: re.Pattern[str]
    multiplier: Mapping[str, float]
    range_dash: re.Pattern[str]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _notation() -> _Notation:
    data: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    months = {str(name): int(number) for number, names in data["months"].items() for name in names}
    month = _alternation(months)
    zh = {str(k): float(v) for k, v in data["multipliers"]["zh"].items()}
    en = {str(k): float(v) for k, v in data["multipliers"]["en"].items()}
    return _Notation(
        months=MappingProxyType(months),
        zh_date=re.compile(data["zh_date"]),
        en_date_dmy=re.compile(rf"(?<![\d.])(\d{{1,2}})\s+({month})\.?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE),
        en_date_my=re.compile(rf"\b({month})\.?\s+(\d{{4}})(?!\d)", re.IGNORECASE),
        en_date_mdy=re.compile(rf"\b({month})\.?\s+(\d{{1,2}}),\s+(\d{{4}})(?!\d)", re.IGNORECASE),
        en_date_range=re.compile(
            rf"(?<![\d.])(\d{{1,2}})\s+({month})\.?\s*[–—-]\s*\d{{1,2}}\s+(?:{month})\.?,?\s+(\d{{4}})(?!\d)",
            re.IGNORECASE,
        ),
        number=re.compile(
            r"(?<![A-Za-z\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
            rf"(\s*(?:{_alternation(zh)})|\s?(?:{_alternation(en)})(?![A-Za-z]))?",
            re.IGNORECASE,
        ),
        multiplier=MappingProxyType({**zh, **en}),
        range_dash=re.compile(data["range_between"]),
    )


_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)


@dataclass(frozen=True)
class Figure:
    """A number as written, with its scaled value; `raw` is the value without multiplier."""

    text: str
    raw: float
    value: float
    start: int

    @property
    def scaled(self) -> bool:
        return self.value != self.raw


@dataclass(frozen=True)
class DateMention:
    text: str
    year: int
    month: int
    day: int | None
    start: int


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def find_dates(text: str) -> list[DateMention]:
    notation = _notation()
    months = notation.months
    found: list[DateMention] = []
    for m in notation.zh_date.finditer(text):
        found.append(
            DateMention(
                m.group(0), int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None, m.start()
            )
        )
    for m in _ISO_DATE.finditer(text):
        found.append(DateMention(m.group(0), int(m.group(1)), int(m.group(2)), int(m.group(3)), m.start()))
    for m in notation.en_date_range.finditer(text):  # "15 Aug–23 Sept 2022": the first date takes the year
        found.append(DateMention(m.group(0), int(m.group(3)), months[m.group(2).lower()], int(m.group(1)), m.start()))
    for m in notation.en_date_dmy.finditer(text):
        found.append(DateMention(m.group(0), int(m.group(3)), months[m.group(2).lower()], int(m.group(1)), m.start()))
    for m in notation.en_date_mdy.finditer(text):
        found.append(DateMention(m.group(0), int(m.group(3)), months[m.group(1).lower()], int(m.group(2)), m.start()))
    taken = [(d.start, d.start + len(d.text)) for d in found]
    for m in notation.en_date_my.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(DateMention(m.group(0), int(m.group(2)), months[m.group(1).lower()], None, m.start()))
    return sorted(found, key=lambda d: d.start)


def find_figures(text: str, *, skip_dates: bool = True) -> list[Figure]:
    """Numbers in `text`, excluding list markers ("1. ") and, by default, the parts of dates."""
    spans = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(text)]
    if skip_dates:
        spans += [(d.start, d.start + len(d.text)) for d in find_dates(text)]
    cleaned = _blank(text, spans) if spans else text
    notation = _notation()
    matches = list(notation.number.finditer(cleaned))
    figures = []
    for i, m in enumerate(matches):
        integer, fraction, suffix = m.group(1), m.group(2) or "", (m.group(3) or "").strip().lower()
        if not suffix and i + 1 < len(matches):
            # In a range such as "245–255m" or "9–10m" the multiplier applies to both ends.
            following = matches[i + 1]
            between = cleaned[m.end() : following.start()]
            if notation.range_dash.fullmatch(between):
                suffix = (following.group(3) or "").strip().lower()
        raw = float(integer.replace(",", "") + fraction)
        figures.append(Figure(m.group(0).strip(), raw, raw * notation.multiplier.get(suffix, 1.0), m.start()))
    return figures


def same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


class NumberBank:
    """Every figure and date in a set of reference texts, for membership tests."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.values: set[float] = set()
        self.dates: set[tuple[int, int, int | None]] = set()
        for text in texts:
            for fig in find_figures(text):
                self.values.add(_key(fig.value))
                self.values.add(_key(fig.raw))
            for date in find_dates(text):
                self.dates.add((date.year, date.month, date.day))
                self.dates.add((date.year, date.month, None))
                self.values.update({_key(float(date.year)), _key(float(date.day or date.year))})

    def has_figure(self, fig: Figure) -> bool:
        if _key(fig.value) in self.values:
            return True
        # Unscaled mention of a scaled source value ("1.3" for "1.3bn") or the reverse.
        return not fig.scaled and _key(fig.raw) in self.values

    def has_date(self, date: DateMention) -> bool:
        return (date.year, date.month, date.day) in self.dates

    def unknown(self, text: str) -> list[str]:
        """Figures and dates in `text` that the bank does not hold, as written."""
        missing = [d.text for d in find_dates(text) if not self.has_date(d)]
        missing += [f.text for f in find_figures(text) if not self.has_figure(f)]
        return missing


def _key(value: float) -> float:
    return float(f"{value:.9g}")
