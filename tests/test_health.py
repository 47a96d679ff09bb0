"""Deal health: an explainable scorecard (ten items, each green/amber/red with its reason and the
question that closes it), part of the brief in both languages and never written by the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copilot.deal import deal_from_data, load_deal
from copilot.llm.draft import draft_model
from copilot.results import BriefResult
from copilot.skills.brief import render_brief
from copilot.skills.health import ITEMS, deal_health, render_health, with_health
from copilot.validators import check_language

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "deal-negotiation.yaml"

EN = {
    "scenario": "traceability",
    "language": "en",
    "stage": "negotiation",
    "audience": ["CFO"],
    "pains": ["Recalls take 5 days to trace a batch"],
    "goals": ["Trace a batch in under 2 hours"],
    "systems": ["SAP ERP"],
    "constraints": [
        "Nobody inside is championing the project yet",
        "They are also talking to IBM",
        "Three growers signed up to join the pilot",
    ],
}


def test_every_item_has_a_status_a_reason_and_a_question(kb: Any) -> None:
    for lang in ("zh", "en"):
        health = deal_health(kb, load_deal(EXAMPLE), lang)
        assert [i.key for i in health.items] == list(ITEMS)
        for item in health.items:
            assert item.status in ("green", "amber", "red") and item.reason and item.question and item.label
        text = render_health(health)
        assert check_language(text, lang) == []


def test_statuses_follow_the_deals_words(kb: Any) -> None:
    health = {i.key: i for i in deal_health(kb, deal_from_data(EN)).items}
    assert health["metrics"].status == "green" and "2 hours" in health["metrics"].reason
    assert health["pain"].status == "green"
    assert health["economic_buyer"].status == "green" and health["economic_buyer"].evidence == ["CFO"]
    assert health["champion"].status == "red"  # negated: nobody championing
    assert health["competition"].status == "green"
    assert health["partners_committed"].status == "green"
    assert health["data_owners"].status == "amber" and "SAP ERP" in health["data_owners"].reason
    assert health["decision_process"].status == "red"  # late stage, nothing known


def test_an_empty_deal_is_mostly_red_and_later_notes_can_close_items(kb: Any) -> None:
    deal = deal_from_data({"scenario": "e_invoice", "language": "en", "stage": "closing"})
    health = {i.key: i.status for i in deal_health(kb, deal).items}
    assert health["metrics"] == "red" and health["pain"] == "red" and health["economic_buyer"] == "red"
    assert "green" not in health.values()
    later = {
        i.key: i.status
        for i in deal_health(
            kb, deal, notes=["The head of finance is our internal sponsor and pushes the project"]
        ).items
    }
    assert later["champion"] == "green"


def test_the_brief_carries_the_scorecard_and_the_model_never_writes_it(kb: Any) -> None:
    assert "health" in BriefResult.model_fields
    assert "health" not in draft_model(BriefResult).model_fields


def test_brief_shows_deal_health(kb: Any, shipped_index: Any) -> None:
    from copilot.core import Copilot

    copilot = Copilot(shipped_index[0], kb)
    brief = copilot.brief(load_deal(EXAMPLE))
    assert brief.health is not None and len(brief.health.items) == len(ITEMS)
    assert "## 交易健康度" in brief.text
    as_from_a_model = brief.model_copy(update={"health": None, "text": "model text"})
    restored = with_health(as_from_a_model, kb, load_deal(EXAMPLE), lambda r: render_brief(r, kb))
    assert restored.health == brief.health and "## 交易健康度" in restored.text
    en = copilot.brief(deal_from_data(EN))
    assert "## Deal health" in en.text
