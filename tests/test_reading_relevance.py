"""Relevance chooses: the brief's demo steps (and questions, talking points, objections) follow the deal.

Two deals of the same scenario get the demo in a different order, for a reason a reviewer can read in
`--explain-choices` (Copilot.choices): the very scores that decided the order.
"""

from __future__ import annotations

from typing import Any

import pytest

from copilot.core import Copilot
from copilot.deal import Deal, deal_from_data
from copilot.reading.relevance import KEEP_AT_LEAST, MIN_SCORE

RECALL = "A recall takes two days to find every affected batch and store"
RECEIVING = "Receiving clerks cannot spot a difference between what was shipped and what arrived"
RECALL_ZH = "出了问题召回时，要两天才能找全受影响的批次和门店"


@pytest.fixture(scope="module")
def copilot(kb: Any, shipped_index: Any) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings, kb)


def _deal(pain: str, lang: str = "en") -> Deal:
    return deal_from_data({"scenario": "traceability", "language": lang, "pains": [pain]}, "deal")


def _demo(copilot: Copilot, deal: Deal) -> tuple[list[str], dict[str, Any]]:
    brief = copilot.brief(deal)
    scored = {s.text: s for s in copilot.choices(brief, deal) if s.kind == "demo step"}
    return brief.demo_script, scored


def test_two_deals_of_one_scenario_get_the_demo_in_their_own_order(copilot: Copilot) -> None:
    recall, recall_scores = _demo(copilot, _deal(RECALL))
    receiving, receiving_scores = _demo(copilot, _deal(RECEIVING))
    assert recall != receiving
    assert recall[0].startswith("Recall demo")  # the step showing the recall they struggle with leads
    assert f"pain/goal: {RECALL}" in recall_scores[recall[0]].reasons
    assert "receiving clerk" in receiving[0]
    assert f"pain/goal: {RECEIVING}" in receiving_scores[receiving[0]].reasons
    for steps, scores in ((recall, recall_scores), (receiving, receiving_scores)):
        shown = [scores[s].score for s in steps]
        assert shown == sorted(shown, reverse=True)  # --explain-choices shows the scores that decided the order
        assert len(steps) >= KEEP_AT_LEAST["demo step"]
        # lines below the threshold are dropped while enough remain: only the kept minimum may score below it
        assert sum(score < MIN_SCORE for score in shown) <= max(0, KEEP_AT_LEAST["demo step"] - 1)


def test_the_order_follows_the_deal_in_chinese_too(copilot: Copilot) -> None:
    steps, scores = _demo(copilot, _deal(RECALL_ZH, "zh"))
    assert steps[0].startswith("演示召回")
    assert any(r.startswith("pain/goal") for r in scores[steps[0]].reasons)


def test_objections_are_the_ones_this_buyer_is_likeliest_to_raise(copilot: Copilot) -> None:
    pain = "We must be able to delete a consumer's personal data when asked"
    deal = _deal(pain)
    brief = copilot.brief(deal)
    first = brief.objections[0].objection
    assert first.startswith("Personal data on an immutable ledger")  # the playbook's fourth, chosen for this deal
    assert len(brief.objections) == 3
    scored = {s.text: s for s in copilot.choices(brief, deal) if s.kind == "objection"}
    assert f"pain/goal: {pain}" in scored[first].reasons
