"""The deal's reading shapes the offline risks and plan: regimes, budget, timeline, deployment boundary, vendor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from copilot import validators
from copilot.deal import Deal, deal_from_data
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.reading.build import read_deal
from copilot.reading.model import DealReading
from copilot.results import PlanResult, RisksResult
from copilot.skills.plan import plan_offline
from copilot.skills.risks import risks_offline
from copilot.vendor import load_vendor

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 12, 6)

ZH = {
    "customer": "北方乳业集团",
    "industry": "乳制品",
    "scenario": "traceability",
    "region": "cn",
    "pains": ["奶源批次出问题要两天才能查清"],
    "constraints": ["预算300万元以内", "6个月内上线试点", "等保三级", "数据不出政务外网", "HIPAA"],
}
EN = {
    "customer": "Rhein Handelsbank",
    "industry": "banking",
    "scenario": "trade_finance",
    "region": "eu",
    "language": "en",
    "pains": ["Checking a letter of credit takes ten days"],
    "constraints": [
        "Budget capped at EUR 2m",
        "pilot live by end of Q2 2027",
        "must comply with DORA",
        "EU data residency required (Frankfurt or Dublin region)",
    ],
}


def _run(
    kb: KnowledgeBase, data: dict[str, Any], vendor: bool = False
) -> tuple[Deal, DealReading, Grounding, RisksResult, PlanResult]:
    deal = deal_from_data(data)
    profile = load_vendor(ROOT / "examples" / "vendor.yaml") if vendor else None
    reading = read_deal(deal, kb, profile)
    g = Grounding(kb, deal.lang, reading.text())
    risks = risks_offline(kb, g, deal, reading)
    plan = plan_offline(kb, g, deal, None, reading, today=TODAY)
    return deal, reading, g, risks, plan


@pytest.fixture(scope="module")
def zh(kb: KnowledgeBase) -> Any:
    return _run(kb, ZH, vendor=True)


@pytest.fixture(scope="module")
def en(kb: KnowledgeBase) -> Any:
    return _run(kb, EN)


def _grounded(result: Any, g: Grounding, reading: DealReading) -> None:
    assert validators.check_citations(result.citations, set(g.hits)) == []
    assert validators.check_numbers(result.text, [reading.text(), g.cited_text()]) == []


def test_regime_with_a_policy_is_cited(zh: Any, en: Any) -> None:
    _, _, _, risks, _ = en
    dora = next(i for i in risks.items if i.risk_id == "regime-dora")
    assert dora.evidence == ["policy-eu-dora"] and dora.category == "regulatory_compliance"
    assert any(c.doc_id == "policy-eu-dora" for c in risks.citations)
    _, _, _, risks_zh, _ = zh
    mlps = next(i for i in risks_zh.items if i.risk_id == "regime-mlps")
    assert mlps.evidence == ["policy-cn-cybersecurity-law-mlps"]


def test_regime_without_a_policy_is_an_honest_item(zh: Any) -> None:
    _, _, _, risks, _ = zh
    hipaa = next(i for i in risks.items if i.risk_id == "regime-hipaa")
    assert hipaa.evidence == [] and "法务" in hipaa.description
    assert any(n.kind == "no_knowledge" and "HIPAA" in n.message for n in risks.notices)
    assert not any(c.doc_id.startswith("policy-us") for c in risks.citations)


def test_every_named_regime_has_an_item(zh: Any, en: Any) -> None:
    for _, reading, _, risks, _ in (zh, en):
        ids = {i.risk_id for i in risks.items}
        assert all(f"regime-{r}".replace("_", "-") in ids for r in reading.regimes)


def test_budget_labels_phase_one_with_a_cited_reason(zh: Any, en: Any) -> None:
    _, _, _, _, plan = zh
    assert plan.phases[0].budget_label and "300万元" in plan.phases[0].budget_label
    assert any("300万元" in line for line in plan.shaping)
    assert any(c.doc_id == "method-shared-risk" for c in plan.citations)
    _, _, _, _, plan_en = en
    assert plan_en.phases[0].budget_label and "EUR 2m" in plan_en.phases[0].budget_label


def test_timeline_sets_the_horizon_and_pilot_end(zh: Any, en: Any) -> None:
    _, _, _, _, plan = zh
    assert plan.horizon_months == 6 and plan.phases[-1].end_month == 6
    assert any("六个月" in line for line in plan.shaping)
    _, _, _, _, plan_en = en  # "by end of Q2 2027", seen from December 2026: six months
    assert plan_en.horizon_months == 6


def test_explicit_horizon_wins(kb: KnowledgeBase) -> None:
    deal = deal_from_data(ZH)
    reading = read_deal(deal, kb)
    g = Grounding(kb, deal.lang, reading.text())
    assert plan_offline(kb, g, deal, 18, reading).horizon_months == 18


def test_residency_is_a_deployment_item_in_risks_and_plan(zh: Any, en: Any) -> None:
    for _, _, _, risks, plan in (zh, en):
        assert any(i.risk_id.startswith("residency-") for i in risks.items)
        assert any(line.startswith(("部署", "Deployment")) for line in plan.shaping)
    _, _, _, _, plan = zh
    assert any("政务外网" in d for d in plan.phases[0].deliverables)


def test_vendor_deployment_only_as_listed(zh: Any, en: Any) -> None:
    _, _, _, risks, plan = zh  # the example profile lists 政务云
    assert any("政务云 / government cloud" in line for line in plan.shaping)
    assert any("等保三级 / MLPS level 3" in m for i in risks.items if i.risk_id == "regime-mlps" for m in i.mitigations)
    _, _, _, _, plan_en = en  # no profile: nothing about our offering
    assert not any("vendor profile" in line for line in plan_en.shaping)


def test_shaped_outputs_stay_grounded(zh: Any, en: Any) -> None:
    for _, reading, g, risks, plan in (zh, en):
        _grounded(risks, g, reading)
        _grounded(plan, g, reading)


def test_dairy_brief_has_no_produce_wording_and_no_claim_outside_the_profile(kb: KnowledgeBase) -> None:
    from copilot.core import Copilot
    from copilot.settings import Settings
    from evals import deal_metrics

    vendor = load_vendor(ROOT / "examples" / "vendor.yaml")
    copilot = Copilot(Settings(), kb, vendor=vendor)
    deal = deal_from_data(ZH)
    brief = copilot.brief(deal)
    reading = copilot.read(deal)
    text = deal_metrics.without_sources(brief.text, brief.citations)
    assert "种植户" not in text and "施肥" not in text
    assert deal_metrics.industry_leakage(text, reading, kb.industries, "zh").passed
    assert deal_metrics.vendor_claims(text, vendor).passed
    assert deal_metrics.compliance_coverage(reading, brief.risks).passed


def test_consortium_story_never_claims_public_chain_properties(kb: KnowledgeBase) -> None:
    from copilot.core import Copilot
    from copilot.settings import Settings
    from evals import deal_metrics

    copilot = Copilot(Settings(), kb)
    deal = deal_from_data({"customer": "华东汽配集团", "industry": "汽车零部件", "scenario": "automotive_parts"})
    result = copilot.explain(deal, "公有链和联盟链有什么区别？我们用公有链行不行？PoW 挖矿")
    text = deal_metrics.without_sources(result.text, result.citations)
    assert deal_metrics.chain_type_leakage(text, kb, "consortium", "zh").passed


def test_chat_turn_adds_the_stated_constraint_to_the_deal(kb: KnowledgeBase) -> None:
    from copilot.core import Copilot
    from copilot.settings import Settings

    deal = deal_from_data({"customer": "北方乳业集团", "scenario": "traceability", "industry": "乳制品"})
    events = list(Copilot(Settings(), kb).chat("他们要求等保三级", [], deal))
    picked = [e for e in events if e.kind == "deal"]
    assert picked and picked[0].deal is not None and "他们要求等保三级" in picked[0].deal.constraints.compliance
    assert picked[0].notice is not None and "等保三级" in picked[0].notice.message


def test_plan_names_the_product_its_own_proof_and_the_gaps(zh: Any) -> None:
    _, reading, _, _, plan = zh
    vendor = reading.vendor
    assert vendor is not None
    assert any(vendor.product in line for line in plan.shaping)
    assert any("供应商自述" in line and vendor.references[0].customer in line for line in plan.shaping)
    assert all(g.need in "".join(plan.shaping) for g in reading.vendor_gaps)


def test_brief_next_step_names_the_budget(kb: KnowledgeBase) -> None:
    from copilot.core import Copilot
    from copilot.settings import Settings

    brief = Copilot(Settings(), kb).brief(deal_from_data(EN))
    assert "EUR 2m" in brief.next_steps[0]
