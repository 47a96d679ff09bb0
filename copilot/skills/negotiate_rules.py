"""The rules that decide every number of a negotiation plan (no model, no randomness).

From the deal's `negotiation` section:

- each issue gets a role: `fixed` (target = walk-away: nothing to give), `settled` (their position
  already meets our target: we take it), `hold` (it matters clearly more to us than to them: kept at
  target and asked for in return), or `concede` (a currency we trade);
- the opening package puts every issue at its target (or at their position when that is better);
- the offer ladder has one step per thing we can get in return (a tradeable's `get`, then our held
  issues), at most MAX_STEPS: no concession without a get;
- a conceded issue moves from its target toward its walk-away by a share of the range that falls as
  the issue matters more to us than to them (score = priority − their_priority, 3 when unknown), never
  past their own position (no point giving more than they asked) and never to the walk-away itself;
- the share is spread over the steps with geometric weights (RATIO), so every concession is
  smaller than the one before; values are rounded to the coarsest quantum that keeps every rule.

`check_ladder` states the rules as checks on a finished ladder: the tests (with hypothesis), the
evals and the plan itself run it; a non-empty list means a bug.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from copilot.deal import Negotiation, NegotiationIssue, Tradeable

MAX_STEPS = 4
RATIO = 0.6
EPS = 1e-9
_LEVEL = {"low": 1, "medium": 2, "high": 3}
DEFAULT_THEIR_PRIORITY = 3


@dataclass(frozen=True)
class IssuePlan:
    issue: NegotiationIssue
    role: str  # concede | hold | settled | fixed
    opening: float
    share: float  # of the target..walk-away range given away over the whole ladder
    capped: bool  # the share is limited by their position


@dataclass(frozen=True)
class Get:
    kind: str  # tradeable | hold
    text: str
    give: str | None = None  # a tradeable's give, paid for this get
    issue: str | None = None
    value: float | None = None


@dataclass(frozen=True)
class RawStep:
    step: int
    values: dict[str, float]
    moves: list[tuple[str, float, float]]
    gives: list[str]
    gets: list[Get]


def score(issue: NegotiationIssue) -> int:
    """How much more the issue matters to us than to them (−4..4): higher means concede less."""
    theirs = issue.their_priority if issue.their_priority is not None else DEFAULT_THEIR_PRIORITY
    return issue.priority - theirs


def direction(issue: NegotiationIssue) -> int:
    """+1 when conceding raises the value (better: down), −1 when it lowers it (better: up)."""
    return 1 if issue.better == "down" else -1


def span(issue: NegotiationIssue) -> float:
    return abs(issue.target - issue.walk_away)


def share_for(issue: NegotiationIssue) -> float:
    """Strictly falling in score, then in our priority: 0.21..0.89 of the range, never all of it."""
    return 0.55 - 0.08 * score(issue) - 0.01 * (issue.priority - 3)


def _better_or_equal(issue: NegotiationIssue, a: float, b: float) -> bool:
    """a is at least as good for us as b."""
    return a >= b - EPS if issue.better == "up" else a <= b + EPS


def plan_issue(issue: NegotiationIssue) -> IssuePlan:
    their = issue.their_position
    if span(issue) <= EPS:
        return IssuePlan(issue, "fixed", issue.target, 0.0, False)
    if their is not None and _better_or_equal(issue, their, issue.target):
        return IssuePlan(issue, "settled", their, 0.0, False)
    if score(issue) >= 2 and issue.priority >= 4:
        return IssuePlan(issue, "hold", issue.target, 0.0, False)
    share = share_for(issue)
    capped = False
    if their is not None and _better_or_equal(issue, their, issue.walk_away):
        gap = abs(their - issue.target) / span(issue)  # their position lies inside our range
        if gap < share:
            share, capped = gap, True
    return IssuePlan(issue, "concede", issue.target, share, capped)


def trade_order(tradeables: list[Tradeable]) -> list[Tradeable]:
    """Cheap for us and valuable for them first."""
    return sorted(
        tradeables,
        key=lambda t: (
            -(_LEVEL[t.value_to_them] - _LEVEL[t.cost_to_us]),
            _LEVEL[t.cost_to_us],
            -_LEVEL[t.value_to_them],
        ),
    )


def gets_pool(negotiation: Negotiation, plans: list[IssuePlan]) -> list[Get]:
    pool = [Get("tradeable", t.get, give=t.give) for t in trade_order(list(negotiation.tradeables))]
    held = sorted((p for p in plans if p.role == "hold"), key=lambda p: (-p.issue.priority, p.issue.name))
    pool += [Get("hold", p.issue.name, issue=p.issue.name, value=p.opening) for p in held]
    return pool


def _weights(n: int) -> list[float]:
    raw = [RATIO**k for k in range(n)]
    total = sum(raw)
    return [w / total for w in raw]


def _quanta(rng: float) -> list[float | None]:
    e = math.floor(math.log10(rng)) if rng > 0 else 0
    return [10.0 ** (e - k) for k in (1, 2, 3)] + [None]


def _tidy(value: float, quantum: float | None, opening: float) -> float:
    """`value` rounded to the quantum's decimals when the opening has no more decimals than that."""
    if quantum is None or quantum >= 1:
        return value
    digits = -math.floor(math.log10(quantum))
    return round(value, digits) if round(opening, digits) == opening else value


def _values(p: IssuePlan, n: int, quantum: float | None) -> list[float]:
    """The issue's value at steps 0..n."""
    if p.role != "concede":
        return [p.opening] * (n + 1)
    total = p.share * span(p.issue)
    cum, out = 0.0, [p.opening]
    for w in _weights(n):
        cum += total * w
        moved = cum if quantum is None else math.floor(cum / quantum + EPS) * quantum
        out.append(_tidy(p.opening + direction(p.issue) * moved, quantum, p.opening))
    return out


def build_ladder(negotiation: Negotiation) -> tuple[list[IssuePlan], list[RawStep]]:
    """The issue plans and the ladder (step 0 = the opening package)."""
    plans = [plan_issue(i) for i in negotiation.issues]
    conceding = [p for p in plans if p.role == "concede"]
    pool = gets_pool(negotiation, plans)
    if not conceding:
        pool = [g for g in pool if g.kind == "tradeable"]  # a held issue is a get only against a concession
    n = min(MAX_STEPS, len(pool)) if (conceding or negotiation.tradeables) else 0
    series: dict[str, list[float]] = {}
    for p in plans:
        for quantum in _quanta(span(p.issue)) if p.role == "concede" else [None]:
            values = _values(p, n, quantum)
            if not _issue_problems(p.issue, values, p.opening):
                break
        series[p.issue.name] = values
    steps = _steps(plans, series, pool, n)
    if check_ladder(negotiation, plans, steps):  # rounding broke a rule across issues: do not round
        steps = _steps(plans, {p.issue.name: _values(p, n, None) for p in plans}, pool, n)
    return plans, steps


def _steps(plans: list[IssuePlan], series: dict[str, list[float]], pool: list[Get], n: int) -> list[RawStep]:
    steps = [RawStep(0, {p.issue.name: p.opening for p in plans}, [], [], [])]
    for k in range(1, n + 1):
        get = pool[k - 1]
        moves = [(name, vals[k - 1], vals[k]) for name, vals in series.items() if abs(vals[k] - vals[k - 1]) > EPS]
        gives = [get.give] if get.give else []
        steps.append(RawStep(k, {name: vals[k] for name, vals in series.items()}, moves, gives, [get]))
    return steps


# -- the rules as checks ----------------------------------------------------------------------------
def _issue_problems(issue: NegotiationIssue, values: list[float], opening: float) -> list[str]:
    problems = []
    name = issue.name
    for k, v in enumerate(values):
        if not _better_or_equal(issue, v, issue.walk_away):
            problems.append(f"step {k}: {name} = {v:g} goes past its walk-away {issue.walk_away:g}")
    if values and abs(values[0] - opening) > EPS:
        problems.append(f"step 0: {name} does not open at {opening:g}")
    deltas = []
    for k in range(1, len(values)):
        if not _better_or_equal(issue, values[k - 1], values[k]):
            problems.append(f"step {k}: {name} moves back toward our side (a retraction)")
        deltas.append(abs(values[k] - values[k - 1]))
    moving = [d for d in deltas if d > EPS]
    for a, b in itertools.pairwise(moving):
        if b >= a - EPS:
            problems.append(f"{name}: a concession of {b:g} follows one of {a:g} (concessions must shrink)")
    return problems


def check_ladder(negotiation: Negotiation, plans: list[IssuePlan], steps: list[RawStep]) -> list[str]:
    """Every broken rule of a ladder, in plain words (empty when the ladder is sound)."""
    problems: list[str] = []
    by_plan = {p.issue.name: p for p in plans}
    for issue in negotiation.issues:
        values = [s.values[issue.name] for s in steps]
        problems += _issue_problems(issue, values, by_plan[issue.name].opening)
    totals = []
    for s in steps[1:]:
        moved = sum(abs(b - a) / span(by_plan[n].issue) for n, a, b in s.moves if span(by_plan[n].issue) > EPS)
        totals.append(moved)
        if (s.moves or s.gives) and not s.gets:
            problems.append(f"step {s.step}: concedes without getting anything in return")
    moving = [t for t in totals if t > EPS]
    for a, b in itertools.pairwise(moving):
        if b > a + EPS:
            problems.append("the concessions of a step are larger than those of the step before")
    problems += _priority_problems(plans, steps)
    return problems


def _priority_problems(plans: list[IssuePlan], steps: list[RawStep]) -> list[str]:
    """An issue that matters more to us (relative to them) never gives a larger share than one that matters less."""
    if len(steps) < 2:
        return []
    last = steps[-1].values
    shares = {
        p.issue.name: abs(last[p.issue.name] - p.opening) / span(p.issue)
        for p in plans
        if p.role in ("concede", "hold") and not p.capped
    }
    problems = []
    for a in plans:
        for b in plans:
            comparable = a.issue.name in shares and b.issue.name in shares and score(a.issue) > score(b.issue)
            if comparable and shares[a.issue.name] > shares[b.issue.name] + EPS:
                problems.append(
                    f"{a.issue.name} matters more to us than {b.issue.name} relative to them, "
                    "yet gives a larger share of its range"
                )
    return problems
