"""The buyer's own numbers in a deal's goals, with their units.

"把追溯时间缩短到2小时以内" gives 2 小时 (time, within); "Cut supplier financing
approval from 7 days to 1 day" gives 1 day (the last number is the target);
"30% fewer documents" gives 30 % as a relative cut, while "提升到60%" is an
absolute share. The number and unit are kept as the buyer wrote them, so a plan
can show them without inventing a figure ("Zero duplicate cases" stays "zero").
Number words, units and the words around a number are data (data/goal_numbers.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from copilot.text.numbers import find_dates

Family = Literal["time", "percent", "count"]
Change = Literal["absolute", "down", "up"]

DATA = Path(__file__).resolve().parent / "data" / "goal_numbers.yaml"


def _any(words: list[str]) -> str:
    return "(?:" + "|".join(words) + ")"


@dataclass(frozen=True)
class GoalPatterns:
    """The patterns a goal is read with, built from data/goal_numbers.yaml."""

    number: re.Pattern[str]
    percent: str
    time: str
    year: str
    within_before: re.Pattern[str]
    within_after: re.Pattern[str]
    to_before: re.Pattern[str]
    down_after: re.Pattern[str]
    up_after: re.Pattern[str]
    down_words: re.Pattern[str]
    up_words: re.Pattern[str]

    @classmethod
    def load(cls, path: Path = DATA) -> GoalPatterns:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        numbers, units = data["numbers"], data["units"]
        time_zh, time_en, short = (units[k] for k in ("time_zh", "time_en", "time_short"))
        percent = "|".join(units["percent"])
        number = (
            rf"(?P<num>(?<![A-Za-z\d.,])\d+(?:\.\d+)?(?![\d])|\b{_any(numbers['en'])}\b"
            rf"|[{numbers['zh_numerals']}]+(?=\s*{_any(time_zh)})|{numbers['zh_zero']}(?![{numbers['zh_zero_not_before']}]))"
            rf"(?P<space>\s*)"
            rf"(?P<unit>{percent}|{_any(time_zh)}|\b{_any(time_en)}\b|{_any(short)}\b|{_any(units['count_zh'])})?"
        )

        def words(key: str) -> re.Pattern[str]:
            return re.compile("|".join(data[key]["zh"]) + rf"|\b{_any(data[key]['en'])}", re.IGNORECASE)

        return cls(
            number=re.compile(number, re.IGNORECASE),
            percent=percent,
            time="|".join([*time_zh, *time_en, *short]),
            year=str(units["year"]),
            within_before=re.compile(rf"{_any(data['within_before'])}\s*$", re.IGNORECASE),
            within_after=re.compile(rf"^\s*{_any(data['within_after'])}"),
            to_before=re.compile(rf"{_any(data['to_before'])}\s*$", re.IGNORECASE),
            down_after=re.compile(rf"^\s*{_any(data['down_after'])}\b", re.IGNORECASE),
            up_after=re.compile(rf"^\s*{_any(data['up_after'])}\b", re.IGNORECASE),
            down_words=words("down_words"),
            up_words=words("up_words"),
        )


@cache
def patterns() -> GoalPatterns:
    return GoalPatterns.load()


@dataclass(frozen=True)
class BuyerNumber:
    goal: str
    number: str
    unit: str
    family: Family
    change: Change
    within: bool


def _family(unit: str, p: GoalPatterns) -> Family:
    if not unit:
        return "count"
    if re.fullmatch(p.percent, unit, re.IGNORECASE):
        return "percent"
    if re.fullmatch(p.time, unit, re.IGNORECASE):
        return "time"
    return "count"


def _is_year(match: re.Match[str], goal: str, year_unit: str) -> bool:
    num = match.group("num")
    if not (num.isdigit() and len(num) == 4 and 1900 <= int(num) <= 2100):
        return False
    return match.group("unit") in (None, "", year_unit) or any(
        d.start <= match.start() < d.start + len(d.text) for d in find_dates(goal)
    )


def parse_goal(goal: str) -> BuyerNumber | None:
    """The target number of one goal (its last number with a unit or standing alone), if any."""
    p = patterns()
    matches = [m for m in p.number.finditer(goal) if not _is_year(m, goal, p.year)]
    if not matches:
        return None
    m = matches[-1]
    unit = (m.group("unit") or "").strip()
    family = _family(unit, p)
    before, after = goal[: m.start()], goal[m.end() :]
    change: Change = "absolute"
    if family == "percent" and not p.to_before.search(before):
        if p.down_after.search(after) or (not p.up_after.search(after) and p.down_words.search(goal)):
            change = "down"
        elif p.up_after.search(after) or p.up_words.search(goal):
            change = "up"
    within = bool(p.within_before.search(before) or p.within_after.search(after))
    if family == "percent":
        unit = "%"
    return BuyerNumber(goal, m.group("num"), unit, family, change, within)


def buyer_numbers(goals: list[str]) -> list[BuyerNumber]:
    return [n for n in (parse_goal(g) for g in goals) if n is not None]
