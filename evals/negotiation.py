"""The `negotiation` eval suite: every plan's ladder is checked against its deal, independently of the engine.

Dataset: evals/datasets/negotiations.yaml (deals with a `negotiation` section, zh and en, with the
roles and first trade a negotiator expects). Metrics per case (score 1.0 = no problem):

- walk_away: no offer on any issue at any step goes past its walk-away (the gate needs 1.0 over all
  cases: walk-away violations = 0);
- monotone_concessions: every issue only moves toward its walk-away, each move smaller than the one
  before, and each step concedes no more (relative to the ranges) than the step before;
- give_get: every step that concedes something asks for something in return;
- priority_trading: an issue that matters more to us than to them never gives a larger share of
  its range than one that matters less (issues capped by their own position aside);
- expected_roles: the issues held, settled and fixed, the first trade and the number of steps are the
  ones the case expects;
- narration_numbers: every number in the narration (the model's in LLM mode) is in the plan or the deal;
- language_match: the plan is written in the deal's language.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from copilot.deal import Deal, Negotiation
from copilot.skills.negotiate import ladder_facts, plan_numbers
from copilot.skills.negotiate_llm import narration_problems
from copilot.skills.negotiate_model import NegotiationResult
from copilot.skills.negotiate_rules import plan_issue, score, span, trade_order
from copilot.validators import check_language
from evals.cases import Strict, _load
from evals.execute import Call, Engine, _calls, _error, _start, _status, skill_output
from evals.models import CaseResult, MetricResult

EPS = 1e-9


class NegotiationExpect(Strict):
    hold: list[str] = Field(default_factory=list)
    settled: list[str] = Field(default_factory=list)
    fixed: list[str] = Field(default_factory=list)
    trade_first: str | None = None
    steps: int | None = Field(default=None, ge=0, description="concession steps after the opening")


class NegotiationCase(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    deal: Deal
    expect: NegotiationExpect = Field(default_factory=NegotiationExpect)
    note: str | None = None

    @model_validator(mode="after")
    def _has_negotiation(self) -> NegotiationCase:
        if self.deal.negotiation is None or not self.deal.negotiation.issues:
            raise ValueError("deal.negotiation: a negotiation case needs issues")
        names = {i.name for i in self.deal.negotiation.issues}
        for name in [*self.expect.hold, *self.expect.settled, *self.expect.fixed]:
            if name not in names:
                raise ValueError(f"expect: {name!r} is not an issue of the deal")
        return self

    @property
    def lang(self) -> str:
        return self.deal.lang

    @property
    def negotiation(self) -> Negotiation:
        assert self.deal.negotiation is not None
        return self.deal.negotiation


def load_negotiation_cases(path: Path) -> list[NegotiationCase]:
    return _load(path, NegotiationCase)


def _metric(name: str, problems: list[str]) -> MetricResult:
    return MetricResult(
        name=name, skill="negotiate", score=0.0 if problems else 1.0, passed=not problems, problems=problems
    )


def _walk_away(negotiation: Negotiation, result: NegotiationResult) -> list[str]:
    problems = []
    for issue in negotiation.issues:
        for step in result.ladder:
            value = step.values.get(issue.name)
            if value is None:
                problems.append(f"step {step.step}: no value for {issue.name}")
                continue
            past = value < issue.walk_away - EPS if issue.better == "up" else value > issue.walk_away + EPS
            if past:
                problems.append(f"step {step.step}: {issue.name} = {value:g} is past its walk-away {issue.walk_away:g}")
    return problems


def _monotone(negotiation: Negotiation, result: NegotiationResult) -> list[str]:
    problems = []
    for issue in negotiation.issues:
        values = [s.values.get(issue.name, issue.target) for s in result.ladder]
        sign = -1 if issue.better == "up" else 1  # the direction of a concession
        moves = [(b - a) * sign for a, b in itertools.pairwise(values)]
        if any(m < -EPS for m in moves):
            problems.append(f"{issue.name}: moves back toward our side")
        sizes = [m for m in moves if m > EPS]
        if any(b >= a - EPS for a, b in itertools.pairwise(sizes)):
            problems.append(f"{issue.name}: a concession is not smaller than the one before")
    totals = []
    for a, b in itertools.pairwise(result.ladder):
        totals.append(
            sum(abs(b.values[i.name] - a.values[i.name]) / span(i) for i in negotiation.issues if span(i) > EPS)
        )
    sized = [t for t in totals if t > EPS]
    if any(b > a + EPS for a, b in itertools.pairwise(sized)):
        problems.append("a step concedes more than the step before")
    return problems


def _give_get(result: NegotiationResult) -> list[str]:
    return [f"step {s.step}: concedes without a get" for s in result.ladder[1:] if (s.moves or s.gives) and not s.gets]


def _priority(negotiation: Negotiation, result: NegotiationResult) -> list[str]:
    if len(result.ladder) < 2:
        return []
    first, last = result.ladder[0].values, result.ladder[-1].values
    free = [i for i in negotiation.issues if plan_issue(i).role in ("concede", "hold") and not plan_issue(i).capped]
    share = {i.name: abs(last[i.name] - first[i.name]) / span(i) for i in free}
    return [
        f"{a.name} gives a larger share than {b.name}, which matters less to us relative to them"
        for a in free
        for b in free
        if score(a) > score(b) and share[a.name] > share[b.name] + EPS
    ]


def _expected(case: NegotiationCase, result: NegotiationResult) -> list[str]:
    problems = []
    roles = {o.issue: o.role for o in result.openings}
    for role in ("hold", "settled", "fixed"):
        wanted = set(getattr(case.expect, role))
        got = {name for name, r in roles.items() if r == role}
        if wanted != got:
            problems.append(f"{role}: expected {sorted(wanted)}, got {sorted(got)}")
    if case.expect.trade_first is not None:
        got_first = result.trade_first[0].give if result.trade_first else None
        if got_first != case.expect.trade_first:
            problems.append(f"trade first: expected {case.expect.trade_first!r}, got {got_first!r}")
    if case.expect.steps is not None and len(result.ladder) - 1 != case.expect.steps:
        problems.append(f"steps: expected {case.expect.steps}, got {len(result.ladder) - 1}")
    order = [t.give for t in trade_order(list(case.negotiation.tradeables))]
    if [t.give for t in result.trade_first] != order:
        problems.append("the trades are not ordered cheap-for-us, valuable-for-them first")
    return problems


def negotiation_metrics(case: NegotiationCase, result: NegotiationResult) -> list[MetricResult]:
    negotiation = case.negotiation
    sources = [ladder_facts(result), plan_numbers(result), case.deal.text()]
    return [
        _metric("walk_away", _walk_away(negotiation, result)),
        _metric("monotone_concessions", _monotone(negotiation, result)),
        _metric("give_get", _give_get(result)),
        _metric("priority_trading", _priority(negotiation, result)),
        _metric("expected_roles", _expected(case, result)),
        _metric("narration_numbers", narration_problems(result.narration, sources, case.lang)),
        _metric("language_match", check_language(result.text, case.lang)),
    ]


def run_negotiation_case(engine: Engine, case: NegotiationCase, index: int) -> CaseResult:
    _start(engine)
    with engine.kb.recording() as retrieved:
        started = time.perf_counter()
        try:
            result: Any = engine.copilot.negotiate(case.deal)
            error = None
        except Exception as exc:
            result, error = None, _error(exc)
        latency = round((time.perf_counter() - started) * 1000, 1)
    call = Call(result, error, dict(retrieved), latency, case.deal.text())
    output = skill_output("negotiate", call, f"negotiation plan for {case.deal.who()}")
    metric_results = negotiation_metrics(case, result) if result is not None else []
    misses, hits = _calls(engine)
    return CaseResult(
        case_id=case.id,
        suite="negotiation",
        index=index,
        lang=case.lang,
        scenario=case.deal.scenario,
        tags={"stage": case.deal.stage, "issues": str(len(case.negotiation.issues))},
        status=_status(metric_results, [error] if error else []),
        metrics=metric_results,
        outputs=[output],
        model_calls=misses,
        cache_hits=hits,
        error=f"{error.type}: {error.message}" if error else None,
    )
