"""Values inside a constraint sentence: a budget's amount and currency, a timeline's months or date.

The words (currencies, scales, number words, duration units) are data in data/amounts.yaml; this
module only parses. Amounts: "300万元", "三百万", "伍佰万元整", "0.5亿", "EUR 2m", "$1.5 million",
"250-400k USD" (a range reads as its upper bound; of several amounts the last one counts, as in
"年度预算1.2亿元，分给本项目的不超过一千万"). Timelines: a duration ("6个月内", "两个季度", "POC in 8
weeks", "~90 days") in months, or a date ("2027年Q2前", "2028年上半年", "end of Q2 2027",
"December 2027") as YYYY-MM (the end of a quarter or half).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data" / "amounts.yaml"
_NUM = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"


@dataclass(frozen=True)
class Amount:
    value: float
    currency: str
    text: str


@dataclass(frozen=True)
class _Words:
    currencies: list[tuple[str, str]]  # (word, code), longest word first
    region_currency: dict[str, str]
    scales: dict[str, float]
    zh_digits: dict[str, float]
    zh_units: dict[str, int]
    en_numbers: dict[str, float]
    durations: dict[str, float]


@cache
def words() -> _Words:
    data: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    pairs = [(str(w), code) for code, ws in data["currencies"].items() for w in ws]
    return _Words(
        currencies=sorted(pairs, key=lambda p: -len(p[0])),
        region_currency=dict(data["region_currency"]),
        scales={str(k): float(v) for k, v in data["scales"].items()},
        zh_digits={str(k): float(v) for k, v in data["zh_digits"].items()},
        zh_units={str(k): int(v) for k, v in data["zh_units"].items()},
        en_numbers={str(k): float(v) for k, v in data["en_numbers"].items()},
        durations={str(k): float(v) for k, v in data["durations"].items()},
    )


def _alternation(options: list[str]) -> str:
    return "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True))


def zh_number(text: str) -> float | None:
    """ "三百" -> 300, "两千五百" -> 2500, "伍佰" -> 500, "十二" -> 12; None when it is not a number."""
    w = words()
    total, current = 0.0, 0.0
    seen = False
    for ch in text:
        if ch in w.zh_digits:
            current = w.zh_digits[ch]
            seen = True
        elif ch in w.zh_units:
            total += (current or 1) * w.zh_units[ch]
            current = 0.0
            seen = True
        else:
            return None
    return total + current if seen else None


def _number(token: str) -> float | None:
    w = words()
    if re.fullmatch(_NUM, token):
        return float(token.replace(",", ""))
    if token.lower() in w.en_numbers:
        return w.en_numbers[token.lower()]
    return zh_number(token)


@cache
def _amount_pattern() -> re.Pattern[str]:
    w = words()
    zh_chars = "".join(list(w.zh_digits) + list(w.zh_units))
    number = rf"(?:{_NUM}|[{zh_chars}]+|\b(?:{_alternation(list(w.en_numbers))})\b)"
    scale = _alternation(list(w.scales))
    currency = _alternation([c for c, _ in w.currencies])
    return re.compile(
        rf"(?P<pre>(?:{currency})\s?)?(?P<num>{number})\s?(?P<scale>(?:{scale})(?![A-Za-z]))?"
        rf"(?:\s?(?P<post>{currency})(?![A-Za-z]))?",
        re.IGNORECASE,
    )


def _currency_code(word: str | None) -> str | None:
    if not word:
        return None
    lowered = word.strip().lower()
    return next((code for w, code in words().currencies if w.lower() == lowered), None)


def find_amount(text: str, lang: str = "zh", region: str | None = None) -> Amount | None:
    """The budget amount in `text` (the last one; a range's upper bound), or None."""
    w = words()
    found: list[Amount] = []
    for m in _amount_pattern().finditer(text):
        value = _number(m.group("num"))
        if value is None:
            continue
        scale_word = m.group("scale")
        scale = w.scales.get(scale_word) or w.scales.get(scale_word.lower()) if scale_word else None
        code = _currency_code(m.group("pre")) or _currency_code(m.group("post"))
        is_digits = bool(re.fullmatch(_NUM, m.group("num")))
        if scale is None and code is None and (not is_digits or value < 10000):
            continue  # "三年", "phase one", "24/7", "2027": not money
        if not is_digits and m.group("num").lower() in w.en_numbers and scale is None:
            continue  # "one euro" is not a budget; "two million euros" is
        found.append(Amount(value * (scale or 1), code or "", m.group(0).strip()))
    if not found:
        return None
    chosen = found[-1]
    code = chosen.currency or next((a.currency for a in reversed(found) if a.currency), "")
    if not code:
        code = next((c for word, c in w.currencies if len(word) > 1 and _mentions(text, word)), "")
    if not code:
        code = "CNY" if lang == "zh" else w.region_currency.get(region or "", "USD")
    return Amount(round(chosen.value, 2), code, chosen.text)


def _mentions(text: str, word: str) -> bool:
    if word.isascii() and word[0].isalpha():
        return re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is not None
    return word in text


# -- timelines ------------------------------------------------------------------------------------
DATES = Path(__file__).resolve().parent / "data" / "dates.yaml"


@dataclass(frozen=True)
class _DateWords:
    rules: tuple[tuple[re.Pattern[str], str], ...]
    quarters: Mapping[str, int]
    first_half: frozenset[str]
    months: tuple[str, ...]
    date_prefixes: tuple[str, ...]
    calendar_units: frozenset[str]
    day_month_units: frozenset[str]
    month_unit: str
    month_counters: tuple[str, ...]
    half_year: tuple[re.Pattern[str], ...]
    half_before: re.Pattern[str]
    and_a_half: str
    half_after: str


@cache
def date_words() -> _DateWords:
    data: dict[str, Any] = yaml.safe_load(DATES.read_text(encoding="utf-8"))
    months = tuple(str(m) for m in data["months"])
    month = "|".join([*months, *(m[:3] for m in months)])
    rules = tuple(
        (re.compile(str(rule["pattern"]).replace("{month}", month), re.IGNORECASE), str(rule["kind"]))
        for rule in data["rules"]
    )
    return _DateWords(
        rules=rules,
        quarters=MappingProxyType({str(k): int(v) for k, v in data["quarters"].items()}),
        first_half=frozenset(str(h) for h in data["first_half"]),
        months=months,
        date_prefixes=tuple(str(p) for p in data["date_prefixes"]),
        calendar_units=frozenset(str(u) for u in data["calendar_units"]),
        day_month_units=frozenset(str(u) for u in data["day_month_units"]),
        month_unit=str(data["month_unit"]),
        month_counters=tuple(str(c) for c in data["month_counters"]),
        half_year=tuple(re.compile(str(p), re.IGNORECASE) for p in data["half_year"]),
        half_before=re.compile(str(data["half_before"]), re.IGNORECASE),
        and_a_half=str(data["and_a_half"]),
        half_after=str(data["half_after"]),
    )


def find_date(text: str) -> str | None:
    """The month a timeline names, as YYYY-MM (a quarter or half counts as its last month)."""
    d = date_words()
    for pattern, kind in d.rules:
        m = pattern.search(text)
        if m is None:
            continue
        a, b = m.group(1), m.group(2) if m.lastindex and m.lastindex > 1 else ""
        if kind == "ym":
            year, month = int(a), int(b)
        elif kind == "yq":
            year, month = int(a), 3 * d.quarters[b]
        elif kind == "qy":
            year, month = int(b), 3 * d.quarters[a]
        elif kind == "yh":
            year, month = int(a), 6 if b in d.first_half else 12
        elif kind == "hy":
            year, month = int(b), 6 if a == "1" else 12
        elif kind == "my":
            year, month = int(b), next(i for i, n in enumerate(d.months, 1) if n.startswith(a.lower()[:3]))
        else:
            year, month = int(a), 12
        if 1 <= month <= 12 and 1990 <= year <= 2100:
            return f"{year:04d}-{month:02d}"
    return None


@cache
def _duration_pattern() -> re.Pattern[str]:
    w, d = words(), date_words()
    zh_chars = "".join(list(w.zh_digits) + list(w.zh_units))
    number = rf"(?:{_NUM}|[{zh_chars}]+|\b(?:{_alternation(list(w.en_numbers))})\b)"
    units = _alternation(list(w.durations))
    return re.compile(
        rf"(?<!\d)(?P<num>{number})(?P<half>{d.and_a_half})?\s?-?\s?(?P<unit>{units})(?![A-Za-z])"
        rf"(?P<half_after>{d.half_after})?",
        re.IGNORECASE,
    )


def find_months(text: str) -> int | None:
    """A duration in `text`, in whole months (at least one), or None. "2027年" is a date, not a duration."""
    w, d = words(), date_words()
    for m in _duration_pattern().finditer(text):
        unit = m.group("unit")
        num = m.group("num")
        if text[max(0, m.start() - 1) : m.start()] in d.date_prefixes:
            continue  # 第一季度, 上半年: a date
        if d.half_before.search(text[: m.start()]):
            continue  # "half a year": six months (below), not a year
        if unit in d.calendar_units and re.fullmatch(r"\d+", num) and (len(num) == 4 or unit in d.day_month_units):
            continue  # 2027年, 9月, 30日: dates
        half = bool(m.group("half") or m.group("half_after"))
        if unit == d.month_unit and not num.endswith(d.month_counters) and not half:
            continue  # "三月" is March; a duration is "三个月" (handled by the 个月 unit)
        value = _number(num)
        factor = w.durations.get(unit) or w.durations.get(unit.lower())
        if value is None or factor is None:
            continue
        return max(1, math.floor((value + 0.5 * half) * factor + 0.5))  # halves round up: 两个半月 is 3, not 2
    if any(p.search(text) for p in d.half_year):
        return 6
    return None
