"""The buyer's own numbers in a deal's goals, with their units.

"把追溯时间缩短到2小时以内" gives 2 小时 (time, within); "Cut supplier financing
approval from 7 days to 1 day" gives 1 day (the last number is the target);
"30% fewer documents" gives 30 % as a relative cut, while "提升到60%" is an
absolute share. The number and unit are kept as the buyer wrote them, so a plan
can show them without inventing a figure ("Zero duplicate cases" stays "zero").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from copilot.text.numbers import find_dates

Family = Literal["time", "percent", "count"]
Change = Literal["absolute", "down", "up"]

_EN_WORDS = "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_ZH_NUMERALS = "零一二两三四五六七八九十"
_TIME_ZH = "个工作日|工作日|个小时|小时|分钟|秒钟|秒|天|日|周|个月|年"
_TIME_EN = r"working\s+days?|business\s+days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?"
_PERCENT = r"%|％|percent\b|per\s+cent\b|个百分点"
_COUNT_ZH = "批次|件|个|条|份|家|次|笔|张|起|批|辆|人|户|单"

_NUMBER = re.compile(
    rf"(?P<num>(?<![A-Za-z\d.,])\d+(?:\.\d+)?(?![\d])|\b(?:{_EN_WORDS})\b|[{_ZH_NUMERALS}]+(?=\s*(?:{_TIME_ZH}))|零(?![件部售散星食钱]))"
    rf"(?P<space>\s*)"
    rf"(?P<unit>{_PERCENT}|(?:{_TIME_ZH})|\b(?:{_TIME_EN})\b|(?:h|s)\b|(?:{_COUNT_ZH}))?",
    re.IGNORECASE,
)
_WITHIN_BEFORE = re.compile(
    r"(?:within|under|less than|at most|no more than|不超过|少于|低于|控制在)\s*$", re.IGNORECASE
)
_WITHIN_AFTER = re.compile(r"^\s*(?:以内|之内|内)")
_TO_BEFORE = re.compile(r"(?:\bto|到|至|为|达到|达)\s*$", re.IGNORECASE)
_DOWN_AFTER = re.compile(r"^\s*(?:fewer|less|lower|shorter|faster|below|reduction|cut)\b", re.IGNORECASE)
_UP_AFTER = re.compile(r"^\s*(?:more|higher|above|increase|growth)\b", re.IGNORECASE)
_DOWN_WORDS = re.compile(r"减少|降低|缩短|下降|压缩|节省|减半|\b(?:cut|reduce|lower|halve|decrease|shrink|save)", re.I)
_UP_WORDS = re.compile(r"提升|提高|增加|增长|扩大|\b(?:raise|increase|grow|boost|improve)", re.IGNORECASE)


@dataclass(frozen=True)
class BuyerNumber:
    goal: str
    number: str
    unit: str
    family: Family
    change: Change
    within: bool


def _family(unit: str) -> Family:
    if not unit:
        return "count"
    if re.fullmatch(_PERCENT, unit, re.IGNORECASE):
        return "percent"
    if re.fullmatch(rf"{_TIME_ZH}|{_TIME_EN}|h|s", unit, re.IGNORECASE):
        return "time"
    return "count"


def _is_year(match: re.Match[str], goal: str) -> bool:
    num = match.group("num")
    if not (num.isdigit() and len(num) == 4 and 1900 <= int(num) <= 2100):
        return False
    return match.group("unit") in (None, "", "年") or any(
        d.start <= match.start() < d.start + len(d.text) for d in find_dates(goal)
    )


def parse_goal(goal: str) -> BuyerNumber | None:
    """The target number of one goal (its last number with a unit or standing alone), if any."""
    matches = [m for m in _NUMBER.finditer(goal) if not _is_year(m, goal)]
    if not matches:
        return None
    m = matches[-1]
    unit = (m.group("unit") or "").strip()
    family = _family(unit)
    before, after = goal[: m.start()], goal[m.end() :]
    change: Change = "absolute"
    if family == "percent" and not _TO_BEFORE.search(before):
        if _DOWN_AFTER.search(after) or (not _UP_AFTER.search(after) and _DOWN_WORDS.search(goal)):
            change = "down"
        elif _UP_AFTER.search(after) or _UP_WORDS.search(goal):
            change = "up"
    within = bool(_WITHIN_BEFORE.search(before) or _WITHIN_AFTER.search(after))
    if family == "percent":
        unit = "%"
    return BuyerNumber(goal, m.group("num"), unit, family, change, within)


def buyer_numbers(goals: list[str]) -> list[BuyerNumber]:
    return [n for n in (parse_goal(g) for g in goals) if n is not None]
