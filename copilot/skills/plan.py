"""Phased implementation plan for a deal, composed offline from the scenario playbook.

The playbook's phases are written for a twelve-month horizon; they are scaled
proportionally to the requested horizon (ordered, non-overlapping, from month
one to the horizon). KPI targets stay as in the playbook except where the
buyer's goals give their own number: each such number (see `goal_numbers`) is
matched to the KPI and the value metric of the same unit family (time, percent,
count) whose names share the most words with the goal, in either language; a
relative cut ("30% fewer") goes to a metric measured against the baseline. When
no KPI shares a word, the headline KPI of the last phase ("below the baseline")
of the same family takes it; when only a value metric matches, a final-phase
KPI is made from that metric. Month numbers are written out in words, so the
plan shows no figure that neither the deal nor a cited passage contains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.corpus.models import Bilingual, Kpi, Phase, PlaybookEntry, ValueMetric
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import KpiOut, Notice, PhaseOut, PlanResult, ValueMetricOut
from copilot.skills.goal_numbers import BuyerNumber, Family, buyer_numbers
from copilot.skills.passages import Cited, sources_section
from copilot.text.segment import stem, tokenize
from copilot.vocabulary import Language

MIN_HORIZON = 3
MAX_HORIZON = 60
PLAYBOOK_HORIZON = 12

_LABELS = {
    "zh": {
        "title": "## {customer}：{months}个月实施计划",
        "phase": "### 阶段{n}：{name}（{months}）",
        "deliverables": "**交付物**",
        "kpis": "**KPI**",
        "buyer_tasks": "**买方任务**",
        "vendor_tasks": "**供应商任务**",
        "value_metrics": "### 价值指标（签约前约定）",
        "target": "目标",
        "measured": "衡量方式",
        "buyer_target": "买方目标",
        "from_buyer": "（买方自己的目标）",
        "down": "越低越好",
        "up": "越高越好",
        "sep": "：",
        "review": "每季度复盘，与基线对比",
        "below": "低于基线",
        "above": "高于基线",
        "rel_down": "较基线减少{n}%",
        "rel_up": "较基线提升{n}%",
        "tbd": "待双方约定",
    },
    "en": {
        "title": "## {months}-month implementation plan: {customer}",
        "phase": "### Phase {n}: {name} ({months})",
        "deliverables": "**Deliverables**",
        "kpis": "**KPIs**",
        "buyer_tasks": "**Buyer tasks**",
        "vendor_tasks": "**Vendor tasks**",
        "value_metrics": "### Value metrics (agreed before signing)",
        "target": "target",
        "measured": "how measured",
        "buyer_target": "buyer's target",
        "from_buyer": " (the buyer's own target)",
        "down": "lower is better",
        "up": "higher is better",
        "sep": ": ",
        "review": "Reviewed every quarter against the baseline",
        "below": "below the baseline",
        "above": "above the baseline",
        "rel_down": "{n}% below the baseline",
        "rel_up": "{n}% above the baseline",
        "tbd": "to be agreed",
    },
}

_ZH_DIGITS = "零一二三四五六七八九"
_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty"]
_TIME_UNIT = re.compile(
    r"^(?:个?工作日|个?小时|分钟|秒钟?|天|日|周|个?月|年|working days?|business days?|hours?|minutes?|seconds?|days?|"
    r"weeks?|months?|years?)",
    re.IGNORECASE,
)
_IGNORED_WORDS = frozenset(  # units and number words: the unit family decides, not the word
    "小时 分钟 秒 天 日 周 月 年 工作日 个月 hour hours minut secon day days week weeks month year years "
    "zero one two three four five six seven eight nine ten eleve twelv".split()
)


def number_words(n: int, lang: str) -> str:
    """1..99 in words ("十二", "twelve"): month numbers are computed, so they are not shown as figures."""
    if lang == "zh":
        if n < 10:
            return _ZH_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")
    if n < 20:
        return _EN_ONES[n]
    tens, ones = divmod(n, 10)
    return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")


def month_span(start: int, end: int, lang: str) -> str:
    a, b = number_words(start, lang), number_words(end, lang)
    if lang == "zh":
        return f"第{a}个月" if start == end else f"第{a}至第{b}个月"
    return f"month {a}" if start == end else f"months {a} to {b}"


# -- phases -----------------------------------------------------------------------------------------
def scale_phases(phases: list[Phase], horizon: int) -> list[tuple[list[Phase], int, int]]:
    """(playbook phases, start, end) of each plan phase, scaled from the playbook's horizon to `horizon`.

    Phases stay ordered and non-overlapping, the first starts in month one and the last ends at the
    horizon; if the horizon has fewer months than the playbook has phases, the last ones are merged.
    """
    if not MIN_HORIZON <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon_months must be between {MIN_HORIZON} and {MAX_HORIZON} months, got {horizon}")
    if len(phases) > horizon:
        groups = [[p] for p in phases[: horizon - 1]] + [list(phases[horizon - 1 :])]
    else:
        groups = [[p] for p in phases]
    base = max(p.end_month for p in phases) or PLAYBOOK_HORIZON
    n = len(groups)
    out = []
    previous_end = 0
    for i, group in enumerate(groups):
        end = int(group[-1].end_month * horizon / base + 0.5)
        end = max(end, previous_end + 1)
        end = min(end, horizon - (n - 1 - i))
        if i == n - 1:
            end = horizon
        out.append((group, previous_end + 1, end))
        previous_end = end
    return out


# -- buyer numbers ----------------------------------------------------------------------------------
def _words(text: str) -> set[str]:
    """Content words for matching a goal with a metric name (English stems cut to five letters)."""
    out = set()
    for token in tokenize(text):
        if token.isdigit() or re.fullmatch(r"\d+(?:\.\d+)?", token):
            continue
        if token.isascii():
            token = stem(token)[:5]
        elif len(token) < 2:
            continue
        if token not in _IGNORED_WORDS:
            out.add(token)
    return out


def _unit_family(unit: Bilingual) -> Family:
    en = unit.en.strip().lower()
    if en.startswith("%"):
        return "percent"
    if _TIME_UNIT.match(en):
        return "time"
    return "count"


def _is_baseline_target(target: str) -> bool:
    return "baseline" in target.lower() and not re.search(r"\d", target)


def _fits(number: BuyerNumber, unit: Bilingual) -> bool:
    family = _unit_family(unit)
    if number.family == "percent" and number.change != "absolute":
        return family != "percent"  # a relative cut applies to a time or a count
    return family == number.family


@dataclass
class _KpiSlot:
    phase: int
    kpi: Kpi
    target: str | None = None
    unit: str | None = None
    from_buyer: bool = False


@dataclass
class _MetricSlot:
    metric: ValueMetric
    target: str | None = None
    unit: str | None = None
    from_buyer: bool = False


@dataclass
class _Targets:
    kpis: list[_KpiSlot]
    metrics: list[_MetricSlot]
    extra: list[_KpiSlot] = field(default_factory=list)  # KPIs made from value metrics for the last phase
    unplaced: list[BuyerNumber] = field(default_factory=list)


def _target_text(number: BuyerNumber, lang: str) -> str:
    lb = _LABELS[lang]
    if number.family == "percent" and number.change != "absolute":
        return lb["rel_down" if number.change == "down" else "rel_up"].format(n=number.number)
    value = number.number.lower() if number.number.isascii() else number.number
    return f"≤ {value}" if number.within else value


def _unit_text(number: BuyerNumber, default: str) -> str:
    if number.family == "percent" and number.change != "absolute":
        return default
    return number.unit or default


def place_buyer_numbers(deal: Deal, playbook: PlaybookEntry, phase_of: list[int]) -> _Targets:
    """Match each buyer number to a KPI (and a value metric); `phase_of[i]` is the plan phase of playbook phase i."""
    lang = deal.lang
    last = max(phase_of)
    targets = _Targets(
        kpis=[_KpiSlot(phase_of[i], k) for i, p in enumerate(playbook.phases) for k in p.kpis],
        metrics=[_MetricSlot(m) for m in playbook.value_metrics],
    )
    for number in buyer_numbers(deal.goals):
        goal = _words(number.goal)
        kpi_choice: tuple[tuple[float, int, int], _KpiSlot] | None = None
        for index, slot in enumerate(targets.kpis):
            if slot.from_buyer or not _kpi_fits(number, slot.kpi):
                continue
            overlap = len(goal & (_words(slot.kpi.name.zh) | _words(slot.kpi.name.en)))
            key = (overlap + 0.5 * _is_baseline_target(slot.kpi.target), slot.phase, -index)
            if overlap and (kpi_choice is None or key > kpi_choice[0]):
                kpi_choice = (key, slot)
        metric_choice: tuple[tuple[int, int], _MetricSlot] | None = None
        for index, m_slot in enumerate(targets.metrics):
            metric = m_slot.metric
            if m_slot.from_buyer or not _fits(number, metric.unit):
                continue
            if number.change != "absolute" and metric.direction != number.change:
                continue
            overlap = len(goal & (_words(metric.name.zh) | _words(metric.name.en)))
            if overlap and (metric_choice is None or (overlap, -index) > metric_choice[0]):
                metric_choice = ((overlap, -index), m_slot)
        if metric_choice is not None:
            m_slot = metric_choice[1]
            m_slot.target, m_slot.from_buyer = _target_text(number, lang), True
            m_slot.unit = _unit_text(number, m_slot.metric.unit.get(lang))
        if kpi_choice is not None and (metric_choice is None or kpi_choice[0][0] > metric_choice[0][0]):
            _set_kpi(kpi_choice[1], number, lang)
        elif metric_choice is not None:
            metric = metric_choice[1].metric
            slot = _KpiSlot(last, Kpi(name=metric.name, target="-", unit=metric.unit, how_measured=metric.how_measured))
            _set_kpi(slot, number, lang)
            targets.extra.append(slot)
        else:
            headline = [
                s
                for s in targets.kpis
                if s.phase == last
                and not s.from_buyer
                and _is_baseline_target(s.kpi.target)
                and _kpi_fits(number, s.kpi)
            ]
            if headline:
                _set_kpi(headline[0], number, lang)
            else:
                targets.unplaced.append(number)
    return targets


def _kpi_fits(number: BuyerNumber, kpi: Kpi) -> bool:
    """Same unit family; a relative change only replaces a "below/above the baseline" target in its direction."""
    if not _fits(number, kpi.unit):
        return False
    if number.family == "percent" and number.change != "absolute":
        sign = "<" if number.change == "down" else ">"
        return _is_baseline_target(kpi.target) and kpi.target.strip().startswith(sign)
    return True


def _set_kpi(slot: _KpiSlot, number: BuyerNumber, lang: str) -> None:
    slot.target = _target_text(number, lang)
    slot.unit = _unit_text(number, slot.kpi.unit.get(lang))
    slot.from_buyer = True


# -- the skill --------------------------------------------------------------------------------------
def _playbook_target(target: str, lang: str) -> str:
    lb = _LABELS[lang]
    text = target.strip()
    if _is_baseline_target(text):
        return lb["below"] if text.startswith("<") else lb["above"]
    return text


def _kpi_source_line(kpi: Kpi, lang: str) -> str:
    """The KPI as the playbook passage states it, to retrieve that passage."""
    sep = _LABELS[lang]["sep"]
    return (
        f"{kpi.name.get(lang)}{sep}{_LABELS[lang]['target']} {kpi.target} {kpi.unit.get(lang)} "
        f"({_LABELS[lang]['measured']}{sep}{kpi.how_measured.get(lang)})"
    )


def plan_offline(kb: KnowledgeBase, g: Grounding, deal: Deal, horizon_months: int = 12) -> PlanResult:
    lang = deal.lang
    lb = _LABELS[lang]
    playbook = kb.playbook(deal.scenario)
    scaled = scale_phases(playbook.phases, horizon_months)
    phase_of = [i for i, (group, _, _) in enumerate(scaled) for _ in group]
    src = Cited(g, deal.text())
    doc_id = playbook.id
    targets = place_buyer_numbers(deal, playbook, phase_of)

    phases: list[PhaseOut] = []
    for i, (group, start, end) in enumerate(scaled):
        phase = group[0]
        src.cite_doc(doc_id, f"{phase.name.get(lang)}\n" + "\n".join(d.get(lang) for d in phase.deliverables))
        kpis = []
        for slot in [s for s in targets.kpis if s.phase == i] + [s for s in targets.extra if s.phase == i]:
            kpi = slot.kpi
            how = src.ground(doc_id, kpi.how_measured.get(lang))
            name = src.ground(doc_id, kpi.name.get(lang))
            if slot.from_buyer:
                target, unit = slot.target or "", slot.unit or kpi.unit.get(lang)
            else:
                if src.ground(doc_id, _kpi_source_line(kpi, lang)) != _kpi_source_line(kpi, lang):
                    continue  # its figures are in no retrieved passage: leave it out rather than invent
                target, unit = _playbook_target(kpi.target, lang), kpi.unit.get(lang)
            if name and how:
                kpis.append(KpiOut(name=name, target=target, unit=unit, how_measured=how, from_buyer=slot.from_buyer))
        if not kpis:  # no KPI could be shown with its figures: keep the first one, target to be agreed
            first = phase.kpis[0]
            kpis.append(
                KpiOut(
                    name=src.ground(doc_id, first.name.get(lang)) or phase.name.get(lang),
                    target=lb["tbd"],
                    unit=first.unit.get(lang),
                    how_measured=src.ground(doc_id, first.how_measured.get(lang)) or lb["tbd"],
                )
            )
        phases.append(
            PhaseOut(
                name=phase.name.get(lang),
                start_month=start,
                end_month=end,
                deliverables=src.ground_all(doc_id, [d.get(lang) for p in group for d in p.deliverables]),
                kpis=kpis,
                buyer_tasks=src.ground_all(doc_id, [t.get(lang) for p in group for t in p.buyer_tasks]),
                vendor_tasks=src.ground_all(doc_id, [t.get(lang) for p in group for t in p.vendor_tasks]),
            )
        )

    names = "\n".join(m.name.get(lang) for m in playbook.value_metrics)
    src.cite_doc(doc_id, f"{lb['value_metrics'].lstrip('# ')}\n{names}")
    metrics = []
    for m_slot in targets.metrics:
        metric = m_slot.metric
        name = src.ground(doc_id, metric.name.get(lang))
        how = src.ground(doc_id, metric.how_measured.get(lang))
        if not (name and how):
            continue
        metrics.append(
            ValueMetricOut(
                name=name,
                unit=m_slot.unit or metric.unit.get(lang),
                direction=metric.direction,
                how_measured=how,
                review=lb["review"],
                target=m_slot.target,
                from_buyer=m_slot.from_buyer,
            )
        )
    notices = [
        Notice(
            kind="info",
            message=(
                f"未能把买方目标对应到任何 KPI：{n.goal}"
                if lang == "zh"
                else f"No KPI matches the buyer's goal: {n.goal}"
            ),
        )
        for n in targets.unplaced
    ]
    language: Language = "zh" if lang == "zh" else "en"
    result = PlanResult(
        language=language,
        horizon_months=horizon_months,
        phases=phases,
        value_metrics=metrics,
        citations=list(src.citations),
        notices=notices,
    )
    result.text = render_plan(result, deal)
    return result


_SINGLE_VALUE = re.compile(r"[≤≥<>]?\s*(?:\d+(?:\.\d+)?|[A-Za-z]+|[零一二两三四五六七八九十]+)")


def _value(target: str, unit: str) -> str:
    """ "100 %", "≥ 2 家"; a worded target keeps its unit apart: "低于基线（分钟）"."""
    if not _SINGLE_VALUE.fullmatch(target) and re.search(r"[A-Za-z\u4e00-\u9fff]", target):
        return f"{target}（{unit}）" if re.search(r"[\u4e00-\u9fff]", target) else f"{target} ({unit})"
    return f"{target} {unit}".strip()


def render_plan(result: PlanResult, deal: Deal) -> str:
    lang = result.language
    lb = _LABELS[lang]
    sep = lb["sep"]
    months = number_words(result.horizon_months, lang)
    lines = [lb["title"].format(customer=deal.who(lang), months=months if lang == "zh" else months.capitalize())]
    for n, phase in enumerate(result.phases, 1):
        lines += [
            "",
            lb["phase"].format(
                n=number_words(n, lang), name=phase.name, months=month_span(phase.start_month, phase.end_month, lang)
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
    if result.notices:
        lines += ["", *[f"> {n.message}" for n in result.notices]]
    lines += ["", sources_section(result.citations, lang, level=3)]
    return "\n".join(lines).strip() + "\n"
