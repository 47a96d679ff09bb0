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
from collections.abc import Iterable
from dataclasses import dataclass

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        1,
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
_EN_DATE_DMY = re.compile(rf"(?<![\d.])(\d{{1,2}})\s+({_MONTH_RE})\.?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_EN_DATE_MY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_EN_DATE_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_EN_DATE_RANGE = re.compile(
    rf"(?<![\d.])(\d{{1,2}})\s+({_MONTH_RE})\.?\s*[–—-]\s*\d{{1,2}}\s+(?:{_MONTH_RE})\.?,?\s+(\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")

_NUMBER = re.compile(
    r"(?<![A-Za-z\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"(\s*(?:万亿|亿|万|千)|\s?(?:tn|trillion|bn|billion|million|thousand|m|k)(?![A-Za-z]))?",
    re.IGNORECASE,
)
_MULTIPLIER = {
    "万亿": 1e12,
    "亿": 1e8,
    "万": 1e4,
    "千": 1e3,
    "tn": 1e12,
    "trillion": 1e12,
    "bn": 1e9,
    "billion": 1e9,
    "million": 1e6,
    "m": 1e6,
    "thousand": 1e3,
    "k": 1e3,
}
_RANGE_DASH = re.compile(r"\s*(?:[–—~-]|to|至|到)\s*")
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
    found: list[DateMention] = []
    for m in _ZH_DATE.finditer(text):
        found.append(
            DateMention(
                m.group(0), int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None, m.start()
            )
        )
    for m in _ISO_DATE.finditer(text):
        found.append(DateMention(m.group(0), int(m.group(1)), int(m.group(2)), int(m.group(3)), m.start()))
    for m in _EN_DATE_RANGE.finditer(text):  # "15 Aug–23 Sept 2022": the first date takes the year
        found.append(DateMention(m.group(0), int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)), m.start()))
    for m in _EN_DATE_DMY.finditer(text):
        found.append(DateMention(m.group(0), int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)), m.start()))
    for m in _EN_DATE_MDY.finditer(text):
        found.append(DateMention(m.group(0), int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)), m.start()))
    taken = [(d.start, d.start + len(d.text)) for d in found]
    for m in _EN_DATE_MY.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(DateMention(m.group(0), int(m.group(2)), _MONTHS[m.group(1).lower()], None, m.start()))
    return sorted(found, key=lambda d: d.start)


def find_figures(text: str, *, skip_dates: bool = True) -> list[Figure]:
    """Numbers in `text`, excluding list markers ("1. ") and, by default, the parts of dates."""
    spans = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(text)]
    if skip_dates:
        spans += [(d.start, d.start + len(d.text)) for d in find_dates(text)]
    cleaned = _blank(text, spans) if spans else text
    matches = list(_NUMBER.finditer(cleaned))
    figures = []
    for i, m in enumerate(matches):
        integer, fraction, suffix = m.group(1), m.group(2) or "", (m.group(3) or "").strip().lower()
        if not suffix and i + 1 < len(matches):
            # In a range such as "245–255m" or "9–10m" the multiplier applies to both ends.
            following = matches[i + 1]
            between = cleaned[m.end() : following.start()]
            if _RANGE_DASH.fullmatch(between):
                suffix = (following.group(3) or "").strip().lower()
        raw = float(integer.replace(",", "") + fraction)
        figures.append(Figure(m.group(0).strip(), raw, raw * _MULTIPLIER.get(suffix, 1.0), m.start()))
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
