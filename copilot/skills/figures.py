"""Figures and dates of the texts a request checks again and again, parsed once per text.

Offline skills test many candidate sentences against the figures of the input and of every
passage cited so far, and the same passages come back in every request about a scenario:
parsing them (copilot.text.numbers, a handful of regex passes per text) was ~8% of a brief.
The results are exactly NumberBank's: a bank of several texts is the union of the banks of
each text, and `unknown` is NumberBank.unknown on the cached parse of the text.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from copilot.text.numbers import DateMention, Figure, NumberBank, find_dates, find_figures
from copilot.validators import _CITATION_MARKER  # the same markers as unsupported_numbers

CACHED_TEXTS = 4096
LONG_TEXT_CHARS = 2000
"""Longer texts (the joined text of every passage cited so far) change with each citation: few are kept."""
CACHED_LONG_TEXTS = 32

DateKey = tuple[int, int, int | None]


def _sets(text: str) -> tuple[frozenset[float], frozenset[DateKey]]:
    bank = NumberBank([text])
    return frozenset(bank.values), frozenset(bank.dates)


_short_sets = lru_cache(maxsize=CACHED_TEXTS)(_sets)
_long_sets = lru_cache(maxsize=CACHED_LONG_TEXTS)(_sets)


def _bank_sets(text: str) -> tuple[frozenset[float], frozenset[DateKey]]:
    return _short_sets(text) if len(text) <= LONG_TEXT_CHARS else _long_sets(text)


def _parse(text: str) -> tuple[tuple[DateMention, ...], tuple[Figure, ...]]:
    return tuple(find_dates(text)), tuple(find_figures(text))


_short_parses = lru_cache(maxsize=CACHED_TEXTS)(_parse)
_long_parses = lru_cache(maxsize=CACHED_LONG_TEXTS)(_parse)


def _mentions(text: str) -> tuple[tuple[DateMention, ...], tuple[Figure, ...]]:
    return _short_parses(text) if len(text) <= LONG_TEXT_CHARS else _long_parses(text)


def number_bank(texts: Iterable[str]) -> NumberBank:
    """`NumberBank(texts)`, from the cached figures of each text."""
    bank = NumberBank(())
    for text in texts:
        values, dates = _bank_sets(text)
        bank.values |= values
        bank.dates |= dates
    return bank


def unknown(bank: NumberBank, text: str) -> list[str]:
    """`bank.unknown(text)`, from the cached parse of `text`."""
    dates, figures = _mentions(text)
    missing = [d.text for d in dates if not bank.has_date(d)]
    missing += [f.text for f in figures if not bank.has_figure(f)]
    return missing


def unsupported(output: str, sources: Iterable[str]) -> list[str]:
    """`copilot.validators.unsupported_numbers(output, sources)`, from cached parses."""
    found = unknown(number_bank(sources), _CITATION_MARKER.sub(" ", output))
    return list(dict.fromkeys(found))
