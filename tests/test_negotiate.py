"""The negotiation plan end to end: offline in zh and en, a deal without a negotiation section, the
model's narration accepted or rejected on its numbers (fake model and the real HTTP server), and
`nego negotiate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai_server import OpenAIServer, ReplyJSON
from typer.testing import CliRunner

from copilot.core import Copilot
from copilot.deal import Deal, deal_from_data, load_deal
from copilot.llm.fake import ScriptedChatModel
from copilot.llm.model import get_chat_model
from copilot.settings import Settings
from copilot.skills.negotiate import fmt
from copilot.skills.negotiate_llm import narration_problems
from copilot.validators import check_citations, check_language
from nego.cli import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "deal-negotiation.yaml"

EN_DEAL = {
    "customer": "Northwind Foods",
    "scenario": "traceability",
    "region": "eu",
    "language": "en",
    "pains": ["Recalls take 5 days to trace a batch"],
    "goals": ["Trace a batch in under 2 hours"],
    "negotiation": {
        "issues": [
            {
                "name": "annual fee",
                "unit": "EUR",
                "target": 400000,
                "walk_away": 320000,
                "better": "up",
                "their_position": 300000,
                "priority": 4,
                "their_priority": 5,
            },
            {
                "name": "go-live",
                "unit": "months",
                "target": 9,
                "walk_away": 6,
                "better": "up",
                "priority": 2,
                "their_priority": 4,
            },
            {
                "name": "contract term",
                "unit": "years",
                "target": 3,
                "walk_away": 2,
                "better": "up",
                "priority": 5,
                "their_priority": 2,
            },
        ],
        "tradeables": [
            {
                "give": "supplier onboarding kit",
                "get": "a public case study",
                "cost_to_us": "low",
                "value_to_them": "high",
            },
        ],
    },
}


@pytest.fixture(scope="module")
def copilot(kb: Any, shipped_index: Any) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings, kb)


def _sound(result: Any, deal: Deal) -> None:
    assert result.has_negotiation and result.violations == []
    assert len(result.ladder) >= 2 and result.ladder[0].step == 0
    issues = {i.name: i for i in deal.negotiation.issues}  # type: ignore[union-attr]
    for step in result.ladder:
        assert set(step.values) == set(issues)
        for name, value in step.values.items():
            issue = issues[name]
            assert value >= issue.walk_away if issue.better == "up" else value <= issue.walk_away
        if step.step:
            assert step.gets and step.summary
    assert {o.key for o in result.shared_risk} == {"pilot_then_scale", "milestone_payments", "joint_kpi_reviews"}
    assert {"method-shared-risk", "method-milestones-value-reviews"} <= {c.doc_id for c in result.citations}
    assert all(o.reason for o in result.openings)


def test_example_deal_in_chinese(copilot: Copilot) -> None:
    deal = load_deal(EXAMPLE)
    result = copilot.negotiate(deal)
    _sound(result, deal)
    assert result.language == "zh" and result.mode == "offline"
    assert "## 让步阶梯" in result.text and "## 底线" in result.text and "## 共担风险的选项" in result.text
    assert check_language(result.text, "zh") == []
    assert result.trade_first[0].give == "现场培训两次"  # cheap for us, valuable to them
    held = next(o for o in result.openings if o.issue == "合同期限")
    assert held.role == "hold" and {s.values["合同期限"] for s in result.ladder} == {3}
    assert any("合同期限" in g for s in result.ladder for g in s.gets)
    assert all(o.anchor is not None for o in result.openings if o.role in ("concede", "hold"))
    assert result.alternative and result.alternative in result.walk_away[0].action


def test_english_deal_and_the_same_numbers_in_both_languages(copilot: Copilot) -> None:
    deal = deal_from_data(EN_DEAL)
    en = copilot.negotiate(deal)
    _sound(en, deal)
    assert "## Offer ladder" in en.text and check_language(en.text, "en") == []
    assert check_citations(en.citations, {c.chunk_id for c in en.citations}) == []
    zh = copilot.negotiate(deal, "zh")
    assert [s.values for s in zh.ladder] == [s.values for s in en.ladder]
    assert "## 让步阶梯" in zh.text
    fee = next(o for o in en.openings if o.issue == "annual fee")
    assert fee.value == 400000 and fmt(fee.walk_away) in en.text


def test_a_deal_without_negotiation_gets_what_to_add_not_a_ladder(copilot: Copilot) -> None:
    for lang in ("zh", "en"):
        deal = deal_from_data({"scenario": "e_invoice", "customer": "X", "language": lang})
        result = copilot.negotiate(deal)
        assert not result.has_negotiation and result.ladder == [] and result.openings == []
        assert "negotiation:" in result.text and "walk_away:" in result.text and "tradeables:" in result.text


def test_no_concession_without_something_to_get(copilot: Copilot) -> None:
    deal = deal_from_data(
        {
            "scenario": "e_invoice",
            "language": "en",
            "negotiation": {"issues": [{"name": "fee", "unit": "USD", "target": 100, "walk_away": 80, "better": "up"}]},
        }
    )
    result = copilot.negotiate(deal)
    assert [s.step for s in result.ladder] == [0] and result.violations == []
    assert "tradeables" in result.text


# -- LLM mode -------------------------------------------------------------------------------------
def _with_model(copilot: Copilot, model: Any) -> Copilot:
    return Copilot(copilot.settings, copilot.kb, model)


def test_the_model_narrates_with_the_ladders_numbers(copilot: Copilot) -> None:
    deal = deal_from_data(EN_DEAL)
    plan = copilot.negotiate(deal)
    step1 = plan.ladder[1]
    fee = next(m for m in step1.moves if m.issue == "annual fee")
    text = (
        f"Open at {fmt(400000)} EUR for the annual fee and hold the contract term at 3 years. If they push back, "
        f"move the fee from {fmt(fee.from_value)} to {fmt(fee.to_value)} EUR, and only for a public case study. "
        f"Never go below {fmt(320000)} EUR."
    )
    model = ScriptedChatModel(script=[{"narration": text, "cited": []}])
    result = _with_model(copilot, model).negotiate(deal)
    assert result.mode == "llm" and result.narration == text
    assert [s.values for s in result.ladder] == [s.values for s in plan.ladder]  # the model never sets a number
    assert text in result.text


def test_a_narration_with_an_invented_number_is_rejected(copilot: Copilot) -> None:
    deal = deal_from_data(EN_DEAL)
    plan = copilot.negotiate(deal)
    bad = {"narration": "Offer a 15% discount and settle at 250,000 EUR.", "cited": []}
    model = ScriptedChatModel(script=[bad, bad])
    result = _with_model(copilot, model).negotiate(deal)
    assert result.mode == "offline" and result.narration == plan.narration
    assert any(n.kind == "fallback" for n in result.notices)
    assert len(model.prompts) == 2  # one retry with the problems listed
    assert "250,000" in str(model.prompts[1][-1].content) or "250000" in str(model.prompts[1][-1].content)


def test_narration_check() -> None:
    facts = "walk_away: 320,000\nstep: 1"
    assert narration_problems("Never go below 320,000 EUR at step 1.", [facts], "en") == []
    assert narration_problems("Go to 300,000 EUR.", [facts], "en")
    assert narration_problems("", [facts], "en")
    assert narration_problems("不要低于 320,000 欧元。", [facts], "en")  # wrong language


def test_narration_through_the_http_server(copilot: Copilot, openai_server: OpenAIServer, tmp_path: Path) -> None:
    deal = load_deal(EXAMPLE)
    text = (
        "开局先按完整方案报价：软件许可费 280 万元，合同期限 3 年。"
        "对方还价时逐步让步，每一步都要换回对应的条件，软件许可费绝不低于 220 万元。"
    )
    openai_server.script(ReplyJSON({"narration": text, "cited": []}))
    settings = Settings.model_validate(
        {
            "home": tmp_path / "home",
            "provider": "custom",
            "base_url": openai_server.base_url,
            "model": "gpt-4o-mini",
            "api_key": "sk-test",
            "timeout_s": 5.0,
            "max_retries": 0,
        }
    )
    result = Copilot(settings, copilot.kb, get_chat_model(settings)).negotiate(deal)
    assert result.mode == "llm" and result.narration == text and result.violations == []


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_negotiate(shipped_index: Any, tmp_path: Path) -> None:
    env = {"NEGO_HOME": str(shipped_index[0].home)}
    runner = CliRunner()
    shown = runner.invoke(app, ["negotiate", "--deal", str(EXAMPLE), "--lang", "en"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Offer ladder" in shown.output
    as_json = runner.invoke(app, ["negotiate", "--deal", str(EXAMPLE), "--json"], env=env)
    data = json.loads(as_json.output)
    assert data["skill"] == "negotiate" and data["violations"] == [] and len(data["ladder"]) == 5
    plain = tmp_path / "plain.yaml"
    plain.write_text("scenario: e_invoice\nlanguage: en\n", encoding="utf-8")
    missing = runner.invoke(app, ["negotiate", "--deal", str(plain)], env=env)
    assert missing.exit_code == 1 and "negotiation:" in missing.output
