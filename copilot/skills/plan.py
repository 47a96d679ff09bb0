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

import datetime as dt
import re
from dataclasses import dataclass, field

from copilot.corpus.models import Bilingual, Kpi, Phase, PlaybookEntry, ValueMetric
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.reading.model import DealReading
from copilot.results import KpiOut, Notice, PhaseOut, PlanResult, ValueMetricOut
from copilot.skills.goal_numbers import BuyerNumber, Family, buyer_numbers
from copilot.skills.passages import Cited
from copilot.skills.plan_words import _labels, month_span, number_words, plan_data, render_plan
from copilot.skills.shaping import budget_lines, deployment_lines, plan_horizon, timeline_line, vendor_lines
from copilot.text.segment import stem, tokenize
from copilot.vocabulary import Language
from copilot.wording import Wording

__all__ = ["month_span", "number_words", "plan_offline", "render_plan", "scale_phases"]

MIN_HORIZON = 3
MAX_HORIZON = 60
PLAYBOOK_HORIZON = 12


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
        if token not in plan_data().ignored_words:
            out.add(token)
    return out


def _unit_family(unit: Bilingual) -> Family:
    en = unit.en.strip().lower()
    if en.startswith("%"):
        return "percent"
    if plan_data().time_unit.match(en):
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
    if number.family == "percent" and number.change != "absolute":
        return Wording("plan", lang)("rel_down" if number.change == "down" else "rel_up", n=number.number)
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
    lb = _labels(lang)
    text = target.strip()
    if _is_baseline_target(text):
        return lb["below"] if text.startswith("<") else lb["above"]
    return text


def _kpi_source_line(kpi: Kpi, lang: str) -> str:
    """The KPI as the playbook passage states it, to retrieve that passage."""
    lb = _labels(lang)
    sep = lb["sep"]
    return (
        f"{kpi.name.get(lang)}{sep}{lb['target']} {kpi.target} {kpi.unit.get(lang)} "
        f"({lb['measured']}{sep}{kpi.how_measured.get(lang)})"
    )


def plan_offline(
    kb: KnowledgeBase,
    g: Grounding,
    deal: Deal,
    horizon_months: int | None = 12,
    reading: DealReading | None = None,
    today: dt.date | None = None,
) -> PlanResult:
    """The plan; `horizon_months` None takes the deal's timeline (copilot.skills.shaping), else twelve months."""
    lang = deal.lang
    lb = _labels(lang)
    if reading is not None:
        reading = reading.model_copy(update={"deal": deal})
    horizon = plan_horizon(reading, horizon_months, today)
    horizon_months = horizon.months
    playbook = kb.playbook(deal.scenario)
    scaled = scale_phases(playbook.phases, horizon_months)
    phase_of = [i for i, (group, _, _) in enumerate(scaled) for _ in group]
    src = Cited(g, reading.text() if reading is not None else deal.text())
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
    say = Wording("plan", lang)
    notices = [Notice(kind="info", message=say("unplaced_goal", goal=n.goal)) for n in targets.unplaced]
    shaping: list[str] = []
    if reading is not None:
        label, shaping = budget_lines(reading, src, g)
        pilot_end = phases[-2].end_month if len(phases) > 1 else phases[-1].end_month
        shaping += timeline_line(reading, horizon, pilot_end)
        deploy, deliverables = deployment_lines(reading)
        shaping += deploy + vendor_lines(reading)
        head = phases[0]
        phases[0] = head.model_copy(update={"budget_label": label, "deliverables": [*head.deliverables, *deliverables]})
    language: Language = "zh" if lang == "zh" else "en"
    result = PlanResult(
        language=language,
        horizon_months=horizon_months,
        phases=phases,
        value_metrics=metrics,
        shaping=shaping,
        citations=list(src.citations),
        notices=notices,
    )
    result.text = render_plan(result, deal)
    return result
