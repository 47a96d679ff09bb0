"""Words and rendering of the plan (copilot.skills.plan): labels from prompts/offline/<lang>/plan.yaml,
month numbers written out in words (computed months are not shown as figures), the Markdown view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from copilot.deal import Deal
from copilot.results import PlanResult
from copilot.skills.passages import sources_section
from copilot.wording import Wording


def _labels(lang: str) -> dict[str, str]:
    """The plain labels of prompts/offline/<lang>/plan.yaml, as written (templates go through Wording)."""
    return {k: v for k, v in Wording("plan", lang).entries.items() if isinstance(v, str)}


DATA = Path(__file__).resolve().parent / "data" / "plan.yaml"


@dataclass(frozen=True)
class PlanData:
    """data/plan.yaml: number words, and the patterns and words the plan matches goals to KPIs with."""

    zh_digits: tuple[str, ...]
    zh_ten: str
    en_ones: tuple[str, ...]
    en_tens: tuple[str, ...]
    single_value: re.Pattern[str]
    time_unit: re.Pattern[str]
    ignored_words: frozenset[str]


@cache
def plan_data() -> PlanData:
    data: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    words = data["number_words"]
    return PlanData(
        zh_digits=tuple(str(d) for d in words["zh"]["digits"]),
        zh_ten=str(words["zh"]["ten"]),
        en_ones=tuple(str(w) for w in words["en"]["ones"]),
        en_tens=tuple(str(w) for w in words["en"]["tens"]),
        single_value=re.compile(data["single_value"]),
        time_unit=re.compile(data["time_unit"], re.IGNORECASE),
        ignored_words=frozenset(str(w) for w in data["ignored_words"]),
    )


def number_words(n: int, lang: str) -> str:
    """1..99 in words ("十二", "twelve"): month numbers are computed, so they are not shown as figures."""
    d = plan_data()
    if lang == "zh":
        if n < 10:
            return d.zh_digits[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else d.zh_digits[tens]) + d.zh_ten + (d.zh_digits[ones] if ones else "")
    if n < 20:
        return d.en_ones[n]
    tens, ones = divmod(n, 10)
    return d.en_tens[tens] + (f"-{d.en_ones[ones]}" if ones else "")


def month_span(start: int, end: int, lang: str) -> str:
    a, b = number_words(start, lang), number_words(end, lang)
    say = Wording("plan", lang)
    return say("month_one", a=a) if start == end else say("month_span", a=a, b=b)


def _value(target: str, unit: str) -> str:
    """ "100 %", "≥ 2 家"; a worded target keeps its unit apart: "低于基线（分钟）"."""
    if not plan_data().single_value.fullmatch(target) and re.search(r"[A-Za-z\u4e00-\u9fff]", target):
        return f"{target}（{unit}）" if re.search(r"[\u4e00-\u9fff]", target) else f"{target} ({unit})"
    return f"{target} {unit}".strip()


def render_plan(result: PlanResult, deal: Deal) -> str:
    lang = result.language
    lb = _labels(lang)
    say = Wording("plan", lang)
    sep = lb["sep"]
    months = number_words(result.horizon_months, lang)
    lines = [say("title", customer=deal.who(lang), months=months if lang == "zh" else months.capitalize())]
    for n, phase in enumerate(result.phases, 1):
        lines += [
            "",
            say(
                "phase",
                n=number_words(n, lang),
                name=phase.name + (f" · {phase.budget_label}" if phase.budget_label else ""),
                months=month_span(phase.start_month, phase.end_month, lang),
            ),
        ]
        if phase.deliverables:
            lines += ["", lb["deliverables"], *[f"- {d}" for d in phase.deliverables]]
        lines += ["", lb["kpis"]]
        for kpi in phase.kpis:
            mark = lb["from_buyer"] if kpi.from_buyer else ""
            measured = (
                f"（{lb['measured']}{sep}{kpi.how_measured}）"
                if lang == "zh"
                else (f" ({lb['measured']}{sep}{kpi.how_measured})")
            )
            lines.append(f"- {kpi.name}{sep}{lb['target']} {_value(kpi.target, kpi.unit)}{measured}{mark}")
        lines += ["", lb["buyer_tasks"], *[f"- {t}" for t in phase.buyer_tasks]]
        lines += ["", lb["vendor_tasks"], *[f"- {t}" for t in phase.vendor_tasks]]
    if result.value_metrics:
        lines += ["", lb["value_metrics"]]
        for m in result.value_metrics:
            if lang == "zh":
                line = f"- {m.name}（{m.unit}，{lb[m.direction]}）{sep}{m.how_measured}"
                line += f"。{lb['buyer_target']}{sep}{_value(m.target, m.unit)}" if m.target else ""
                line += f"。{m.review}。"
            else:
                line = f"- {m.name} ({m.unit}, {lb[m.direction]}){sep}{m.how_measured}"
                line += f". {lb['buyer_target'].capitalize()}{sep}{_value(m.target, m.unit)}" if m.target else ""
                line += f". {m.review}."
            lines.append(line)
    if result.shaping:
        lines += ["", say("shaping.heading"), *[f"- {line}" for line in result.shaping]]
    if result.notices:
        lines += ["", *[f"> {n.message}" for n in result.notices]]
    lines += ["", sources_section(result.citations, lang, level=3)]
    return "\n".join(lines).strip() + "\n"
