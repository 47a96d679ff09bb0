"""Offline risks, plan and fit skills over the shipped corpus: structure, grounding, honesty."""

from __future__ import annotations

import re
from typing import Any

import pytest
from samples import SAMPLE_DEALS, deal_for

from copilot import validators
from copilot.deal import Deal, deal_from_data
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import FitResult, PlanResult, RisksResult, SkillResult
from copilot.skills.fit import fit_offline
from copilot.skills.goal_numbers import parse_goal
from copilot.skills.plan import plan_offline
from copilot.skills.risk_rating import rate_risks
from copilot.skills.risks import ALWAYS, risks_offline
from copilot.vocabulary import RISK_CATEGORIES

DEAL_IDS = [f"{d.scenario}-{d.lang}" for d in SAMPLE_DEALS]
_DIGIT = re.compile(r"\d")


def _grounding(kb: KnowledgeBase, deal: Deal) -> Grounding:
    return Grounding(kb, deal.lang, deal.text())


def _run(kb: KnowledgeBase, skill: str, deal: Deal, **kwargs: Any) -> tuple[Grounding, Any]:
    g = _grounding(kb, deal)
    if skill == "risks":
        return g, risks_offline(kb, g, deal)
    if skill == "plan":
        return g, plan_offline(kb, g, deal, **kwargs)
    return g, fit_offline(kb, g, deal)


@pytest.fixture(scope="module")
def runs(kb: KnowledgeBase) -> dict[tuple[str, str, str], tuple[Grounding, Any]]:
    """Each skill run once per sample deal, shared by the checks below."""
    return {(skill, d.scenario, d.lang): _run(kb, skill, d) for skill in ("risks", "plan", "fit") for d in SAMPLE_DEALS}


def _assert_valid(result: SkillResult, g: Grounding, deal: Deal) -> None:
    assert result.language == deal.lang
    assert result.citations, "an offline result must cite what it uses"
    assert validators.check_citations(result.citations, set(g.hits)) == []
    assert all(c.chunk_id in g.hits for c in result.citations)
    assert validators.check_numbers(result.text, [deal.text(), g.cited_text()]) == []
    assert validators.check_language(result.text, deal.lang) == []
    assert ("### 来源" if deal.lang == "zh" else "### Sources") in result.text


# -- risks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("deal", SAMPLE_DEALS, ids=DEAL_IDS)
def test_risks_structure(kb: KnowledgeBase, runs: dict[Any, Any], deal: Deal) -> None:
    g, result = runs[("risks", deal.scenario, deal.lang)]
    assert isinstance(result, RisksResult)
    _assert_valid(result, g, deal)
    categories = {i.category for i in result.items}
    assert set(ALWAYS) <= categories
    assert "integration" in categories  # every sample deal names its systems
    assert 8 <= len(result.items) <= 12
    assert len({i.risk_id for i in result.items}) == len(result.items)
    li = 0 if deal.lang == "zh" else 1
    entries = {e.id: e for e in kb.risks}
    for item in result.items:
        entry = entries[item.risk_id]
        assert 1 <= item.likelihood <= 5 and 1 <= item.impact <= 5
        expected = min(5, entry.likelihood + 1) if deal.scenario in entry.rises_in else entry.likelihood
        library = item.model_copy(update={"likelihood": expected, "impact": entry.impact, "rating_reasons": []})
        (rated,) = rate_risks(
            [library], deal, classify=kb.understanding.classify
        )  # the deal's facts move the library's rating, each with a reason
        assert (item.likelihood, item.impact, item.rating_reasons) == (
            rated.likelihood,
            rated.impact,
            rated.rating_reasons,
        )
        assert len(item.rating_reasons) >= abs(item.likelihood - expected) + abs(item.impact - entry.impact)
        assert item.category_label == RISK_CATEGORIES[item.category][li]
        assert item.risk == entry.title(deal.lang) and item.risk in result.text
        assert item.description and item.mitigations and item.warning_signals
        assert set(item.evidence) <= set(entry.evidence) | {
            d for d in item.evidence if d.startswith(f"policy-{deal.region}-")
        }
        assert any(c.doc_id == item.risk_id for c in result.citations)
        assert all(any(c.doc_id == e for c in result.citations) for e in item.evidence)
    keys = [(-(i.likelihood * i.impact), i.risk_id) for i in result.items]
    assert keys == sorted(keys)


@pytest.mark.parametrize("deal", SAMPLE_DEALS, ids=DEAL_IDS)
def test_risks_follow_regional_law(runs: dict[Any, Any], deal: Deal) -> None:
    _, result = runs[("risks", deal.scenario, deal.lang)]
    policies = [e for item in result.items for e in item.evidence if e.startswith("policy-")]
    regulatory = [i for i in result.items if i.category == "regulatory_compliance"]
    assert regulatory
    if deal.region in ("cn", "eu", "us", "uk"):
        prefix = f"policy-{deal.region}-"
        assert all(p.startswith(prefix) for p in policies), policies
        for item in regulatory:
            assert any(e.startswith(prefix) for e in item.evidence), (item.risk_id, item.evidence)
    else:
        assert all(p.startswith(("policy-cn-", "policy-eu-")) for p in policies), policies


def test_risks_regional_cases(runs: dict[Any, Any]) -> None:
    cn = runs[("risks", "traceability", "zh")][1]
    eu = runs[("risks", "luxury_provenance", "zh")][1]
    us = runs[("risks", "traceability", "en")][1]
    assert any(
        e.startswith("policy-cn-") for i in cn.items if i.category == "regulatory_compliance" for e in i.evidence
    )
    assert any(
        e.startswith("policy-eu-") for i in eu.items if i.category == "regulatory_compliance" for e in i.evidence
    )
    assert not any(e.startswith("policy-cn-") for i in eu.items for e in i.evidence)
    # No regulatory entry is written for the US: the closest is shown with US law and a notice says so.
    assert any(
        e.startswith("policy-us-") for i in us.items if i.category == "regulatory_compliance" for e in i.evidence
    )
    assert any(n.kind == "no_knowledge" for n in us.notices)


def test_risks_skip_integration_without_systems(kb: KnowledgeBase) -> None:
    deal = deal_from_data(
        {
            "customer": "Harbour Credit Union",
            "scenario": "digital_identity",
            "region": "eu",
            "language": "en",
            "pains": ["Every institution repeats KYC checks and account opening takes 5 days"],
        }
    )
    g, result = _run(kb, "risks", deal)
    assert "integration" not in {i.category for i in result.items}
    assert set(ALWAYS) <= {i.category for i in result.items}
    _assert_valid(result, g, deal)


# -- plan -----------------------------------------------------------------------------------------
def _assert_plan_shape(result: PlanResult, horizon: int) -> None:
    assert result.horizon_months == horizon
    assert result.phases[0].start_month == 1
    assert result.phases[-1].end_month == horizon
    for before, after in zip(result.phases, result.phases[1:], strict=False):
        assert after.start_month == before.end_month + 1
    for phase in result.phases:
        assert phase.start_month <= phase.end_month
        assert phase.kpis and phase.buyer_tasks and phase.vendor_tasks and phase.deliverables
        for kpi in phase.kpis:
            assert kpi.name and kpi.target and kpi.unit and kpi.how_measured
    assert result.value_metrics
    for metric in result.value_metrics:
        assert metric.review and not _DIGIT.search(metric.review)


@pytest.mark.parametrize("deal", SAMPLE_DEALS, ids=DEAL_IDS)
def test_plan_structure_and_buyer_numbers(kb: KnowledgeBase, runs: dict[Any, Any], deal: Deal) -> None:
    g, result = runs[("plan", deal.scenario, deal.lang)]
    assert isinstance(result, PlanResult)
    _assert_valid(result, g, deal)
    _assert_plan_shape(result, 12)
    playbook = kb.playbook(deal.scenario)
    assert [(p.start_month, p.end_month) for p in result.phases] == [
        (p.start_month, p.end_month) for p in playbook.phases
    ]
    assert any(c.doc_id == playbook.id for c in result.citations)
    # Every sample deal states a goal with a number: it becomes a KPI target, in the buyer's own words.
    number = parse_goal(deal.goals[0])
    assert number is not None
    buyer_kpis = [k for p in result.phases for k in p.kpis if k.from_buyer]
    assert buyer_kpis, "the buyer's own number must be used as a KPI target"
    assert any(number.number.lower() in k.target.lower() for k in buyer_kpis)
    assert any(number.number.lower() in k.target.lower() for k in buyer_kpis if k in result.phases[-1].kpis)


def test_plan_buyer_targets(runs: dict[Any, Any]) -> None:
    def buyer(scenario: str, lang: str) -> list[tuple[str, str]]:
        result = runs[("plan", scenario, lang)][1]
        return [(k.target, k.unit) for p in result.phases for k in p.kpis if k.from_buyer]

    assert buyer("traceability", "zh") == [("≤ 2", "小时")]
    assert buyer("supply_chain_finance", "en") == [("1", "day")]
    assert buyer("gov_data_sharing", "en") == [("30% below the baseline", "documents")]
    assert buyer("trade_finance", "zh") == [("较基线减少50%", "天")]
    assert buyer("e_invoice", "en") == [("zero", "cases per quarter")]  # a KPI made from the value metric
    assert buyer("shipping_logistics", "en") == [("60", "%")]
    traceability = runs[("plan", "traceability", "en")][1]
    metric = next(m for m in traceability.value_metrics if m.from_buyer)
    assert (metric.target, metric.unit) == ("≤ 2", "hours")


@pytest.mark.parametrize("horizon", [6, 24])
@pytest.mark.parametrize("key", [("traceability", "zh"), ("supply_chain_finance", "en"), ("e_invoice", "en")])
def test_plan_scales_to_horizon(kb: KnowledgeBase, horizon: int, key: tuple[str, str]) -> None:
    deal = deal_for(*key)
    g, result = _run(kb, "plan", deal, horizon_months=horizon)
    _assert_valid(result, g, deal)
    _assert_plan_shape(result, horizon)
    assert len(result.phases) == len(kb.playbook(deal.scenario).phases)
    assert any(k.from_buyer for p in result.phases for k in p.kpis)


def test_plan_spans() -> None:
    from copilot.skills.plan import month_span, number_words

    assert number_words(12, "zh") == "十二" and number_words(24, "en") == "twenty-four"
    assert month_span(1, 3, "zh") == "第一至第三个月" and month_span(7, 7, "en") == "month seven"


def test_plan_three_months(kb: KnowledgeBase) -> None:
    deal = deal_for("healthcare_data", "zh")
    _, result = _run(kb, "plan", deal, horizon_months=3)
    assert [(p.start_month, p.end_month) for p in result.phases] == [(1, 1), (2, 2), (3, 3)]


@pytest.mark.parametrize("horizon", [0, 2, 61, 120])
def test_plan_rejects_bad_horizon(kb: KnowledgeBase, horizon: int) -> None:
    deal = deal_for("traceability", "en")
    with pytest.raises(ValueError, match="between 3 and 60"):
        plan_offline(kb, _grounding(kb, deal), deal, horizon)


@pytest.mark.parametrize(
    ("goal", "number", "unit", "family", "change"),
    [
        ("把追溯时间缩短到2小时以内", "2", "小时", "time", "absolute"),
        ("Cut supplier financing approval from 7 days to 1 day", "1", "day", "time", "absolute"),
        ("30% fewer documents", "30", "%", "percent", "down"),
        ("电子提单占比提升到60%", "60", "%", "percent", "absolute"),
        ("Zero duplicate reimbursement cases", "Zero", "", "count", "absolute"),
        ("2025年底前把审批缩短到两天", "两", "天", "time", "absolute"),
    ],
)
def test_parse_goal(goal: str, number: str, unit: str, family: str, change: str) -> None:
    parsed = parse_goal(goal)
    assert parsed is not None
    assert (parsed.number, parsed.unit, parsed.family, parsed.change) == (number, unit, family, change)


def test_parse_goal_without_number() -> None:
    assert parse_goal("Make suppliers happier") is None


# -- fit ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("deal", SAMPLE_DEALS, ids=DEAL_IDS)
def test_fit_grounded(kb: KnowledgeBase, runs: dict[Any, Any], deal: Deal) -> None:
    g, result = runs[("fit", deal.scenario, deal.lang)]
    assert isinstance(result, FitResult)
    _assert_valid(result, g, deal)
    assert result.reasons
    assert any(c.doc_id == kb.playbook(deal.scenario).id for c in result.citations)
    if result.verdict != "fit":
        assert any(c.doc_id == "case-asx-chess" for c in result.citations)
        assert any(c.doc_id.startswith("risk-wrong-tool-") for c in result.citations)


FIT_DEAL = {
    "customer": "Acme Foods",
    "scenario": "traceability",
    "region": "eu",
    "language": "en",
    "pains": [
        "Our suppliers and logistics partners dispute every recall and their records never match",
        "Regulators audit us and we cannot prove who changed a record",
    ],
    "goals": ["Give regulators tamper-evident batch records"],
    "constraints": ["No single company is accepted by all of them to run a central database"],
}
# Without saying whether one party could run it for all, the same deal is a partial fit (issue 17's decision flow).
PARTIAL_DEAL = {k: v for k, v in FIT_DEAL.items() if k != "constraints"}
NOT_FIT_DEAL = {
    "customer": "Acme Ltd",
    "scenario": "e_invoice",
    "region": "eu",
    "language": "en",
    "pains": ["Our internal expense approval database is slow; only our finance team writes to it, no partners"],
    "goals": ["Approve expense claims faster"],
    "systems": ["Internal expense database"],
}
NOT_FIT_DEAL_ZH = {
    "customer": "某制造公司",
    "scenario": "judicial_evidence",
    "region": "cn",
    "language": "zh",
    "pains": ["公司内部的费用报销审批库太慢，只有我们财务部自己录入和使用，不涉及任何合作方"],
    "goals": ["报销审批更快"],
}
# Streaming high-frequency sensor readings is a practical stopper: not a fit, whatever else the deal says.
HIGH_FREQUENCY_DEAL = {
    "customer": "GridCo",
    "scenario": "energy_carbon",
    "region": "eu",
    "language": "en",
    "pains": [
        "Our suppliers and partners reconcile meter data by hand every month",
        "We must stream thousands of sensor readings per second with millisecond latency",
    ],
    "goals": ["Share verified monthly totals with partners"],
}


@pytest.mark.parametrize(
    ("data", "verdict", "risk"),
    [
        (FIT_DEAL, "fit", None),
        (NOT_FIT_DEAL, "not_fit", "risk-wrong-tool-single-writer"),
        (NOT_FIT_DEAL_ZH, "not_fit", "risk-wrong-tool-single-writer"),
        (HIGH_FREQUENCY_DEAL, "not_fit", "risk-wrong-tool-high-frequency-private-data"),
        (PARTIAL_DEAL, "partial", "risk-wrong-tool-trusted-central-operator"),
    ],
    ids=["fit", "not_fit", "not_fit_zh", "high_frequency", "partial"],
)
def test_fit_verdicts(kb: KnowledgeBase, data: dict[str, Any], verdict: str, risk: str | None) -> None:
    deal = deal_from_data(data)
    g, result = _run(kb, "fit", deal)
    assert result.verdict == verdict
    _assert_valid(result, g, deal)
    playbook = kb.playbook(deal.scenario)
    if verdict == "not_fit":
        assert result.alternative == playbook.fit.alternative.get(deal.lang)
        assert result.alternative in result.text
    else:
        assert result.alternative is None
    if risk is not None:
        assert any(c.doc_id == risk for c in result.citations)


def test_fit_honest_in_blockchain_scenario(kb: KnowledgeBase) -> None:
    """A 'blockchain' scenario does not buy a fit: one party and no trust gap is not_fit."""
    deal = deal_from_data({**NOT_FIT_DEAL, "scenario": "supply_chain_finance"})
    _, result = _run(kb, "fit", deal)
    assert result.verdict == "not_fit"


# -- determinism ----------------------------------------------------------------------------------
@pytest.mark.parametrize("skill", ["risks", "plan", "fit"])
@pytest.mark.parametrize("deal", SAMPLE_DEALS[::3], ids=DEAL_IDS[::3])
def test_deterministic(kb: KnowledgeBase, runs: dict[Any, Any], skill: str, deal: Deal) -> None:
    _, first = runs[(skill, deal.scenario, deal.lang)]
    _, again = _run(kb, skill, deal)
    assert again.model_dump() == first.model_dump()
