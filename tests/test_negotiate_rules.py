"""The negotiation rules, proved over random issue sets (hypothesis): every ladder the engine builds
keeps every walk-away, concedes less at each step, gets something for every concession, and gives a
smaller share on issues that matter more to us than to them."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.deal import Negotiation, NegotiationIssue, Tradeable
from copilot.skills.negotiate_rules import MAX_STEPS, build_ladder, check_ladder, score, span

LEVELS = st.sampled_from(["low", "medium", "high"])
MAGNITUDES = st.sampled_from([1.0, 10.0, 1000.0, 3_000_000.0, 1e9, 0.01])


@st.composite
def issues(draw: Any, name: str) -> NegotiationIssue:
    scale = draw(MAGNITUDES)
    target = draw(st.floats(0, 1000, allow_nan=False)) * scale
    width = draw(st.one_of(st.just(0.0), st.floats(0.001, 1000, allow_nan=False))) * scale
    better = draw(st.sampled_from(["up", "down"]))
    walk_away = target - width if better == "up" else target + width
    their = draw(st.one_of(st.none(), st.floats(-500, 2000, allow_nan=False).map(lambda x: x * scale)))
    return NegotiationIssue(
        name=name,
        unit="u",
        target=target,
        walk_away=walk_away,
        better=better,
        their_position=their,
        priority=draw(st.integers(1, 5)),
        their_priority=draw(st.one_of(st.none(), st.integers(1, 5))),
    )


@st.composite
def negotiations(draw: Any) -> Negotiation:
    n = draw(st.integers(1, 6))
    found = [draw(issues(f"issue{i}")) for i in range(n)]
    trades = draw(
        st.lists(
            st.builds(
                Tradeable,
                give=st.sampled_from(["training", "support", "roadmap seat"]),
                get=st.sampled_from(["case study", "3-year term", "referral"]),
                cost_to_us=LEVELS,
                value_to_them=LEVELS,
            ),
            max_size=5,
        )
    )
    return Negotiation(issues=found, tradeables=trades)


SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(negotiations())
def test_every_ladder_keeps_every_rule(negotiation: Negotiation) -> None:
    plans, steps = build_ladder(negotiation)
    assert check_ladder(negotiation, plans, steps) == []


@SETTINGS
@given(negotiations())
def test_no_offer_goes_past_a_walk_away(negotiation: Negotiation) -> None:
    _, steps = build_ladder(negotiation)
    for issue in negotiation.issues:
        for step in steps:
            value = step.values[issue.name]
            assert value >= issue.walk_away - 1e-9 if issue.better == "up" else value <= issue.walk_away + 1e-9


@SETTINGS
@given(negotiations())
def test_concessions_shrink_and_each_step_gets_something(negotiation: Negotiation) -> None:
    _, steps = build_ladder(negotiation)
    assert len(steps) <= MAX_STEPS + 1
    for issue in negotiation.issues:
        deltas = [abs(b.values[issue.name] - a.values[issue.name]) for a, b in itertools.pairwise(steps)]
        moving = [d for d in deltas if d > 1e-9]
        assert all(later < earlier for earlier, later in itertools.pairwise(moving))
    for step in steps[1:]:
        assert step.gets, "a step that gives must get"


@SETTINGS
@given(negotiations())
def test_issues_we_care_more_about_give_less(negotiation: Negotiation) -> None:
    plans, steps = build_ladder(negotiation)
    last = steps[-1].values
    free = [p for p in plans if p.role in ("concede", "hold") and not p.capped]
    for a in free:
        for b in free:
            if score(a.issue) > score(b.issue):
                share_a = abs(last[a.issue.name] - a.opening) / span(a.issue)
                share_b = abs(last[b.issue.name] - b.opening) / span(b.issue)
                assert share_a <= share_b + 1e-9


def test_the_checks_catch_a_broken_ladder() -> None:
    issue = NegotiationIssue(name="price", unit="CNY", target=100, walk_away=80, better="up", priority=3)
    negotiation = Negotiation(
        issues=[issue], tradeables=[Tradeable(give="a", get="b", cost_to_us="low", value_to_them="high")]
    )
    plans, steps = build_ladder(negotiation)
    broken = [steps[0], steps[1].__class__(1, {"price": 70.0}, [("price", 100.0, 70.0)], [], [])]
    problems = check_ladder(negotiation, plans, broken)
    assert any("walk-away" in p for p in problems)
    assert any("without getting" in p for p in problems)
