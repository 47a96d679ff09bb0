"""Risk ratings from the deal: the library's rating moved by the deal's facts, each move with its reason."""

from __future__ import annotations

from copilot.deal import Deal
from copilot.results import RiskItem
from copilot.skills.risk_rating import rate_risks, rating_lines
from copilot.vendor import VendorProfile


def item(category: str, likelihood: int = 4, impact: int = 4) -> RiskItem:
    return RiskItem(
        risk_id=f"risk-{category}",
        category=category,  # type: ignore[arg-type]
        category_label=category,
        risk=category,
        description="",
        likelihood=likelihood,
        impact=impact,
        mitigations=["m"],
        owner="joint",
        warning_signals=["s"],
        evidence=["case-x"],
    )


CATEGORIES = [
    "integration",
    "regulatory_compliance",
    "data_security_privacy",
    "cost_roi",
    "user_adoption",
    "wrong_tool",
]


def test_the_same_library_ratings_spread_apart_with_the_deals_facts() -> None:
    bare = Deal(scenario="traceability", language="zh")
    rich = Deal(
        scenario="traceability",
        region="eu",
        language="en",
        pains=["recalls take days"],
        systems=["SAP", "WMS", "MES"],
        constraints={"budget": "EUR 2m", "timeline": "live by Q3", "compliance": ["GDPR"]},
        stage="negotiation",
    )
    items = [item(c) for c in CATEGORIES]
    plain = {i.category: (i.likelihood, i.impact) for i in rate_risks(items, bare)}
    rated = {i.category: i for i in rate_risks(items, rich)}
    assert plain["integration"] == (3, 4) and plain["wrong_tool"] == (5, 4)  # no systems named; no pain yet
    assert rated["integration"].likelihood == 5 and "SAP" in rated["integration"].rating_reasons[0]
    assert rated["regulatory_compliance"].likelihood == 5 and "GDPR" in rated["regulatory_compliance"].rating_reasons[0]
    assert (rated["data_security_privacy"].likelihood, rated["data_security_privacy"].impact) == (4, 5)
    assert (rated["cost_roi"].likelihood, rated["cost_roi"].impact) == (5, 5)
    assert rated["wrong_tool"].likelihood == 4 and not rated["wrong_tool"].rating_reasons
    assert len({(i.likelihood, i.impact) for i in rated.values()}) >= 3
    for rated_item in rated.values():
        moved = abs(rated_item.likelihood - 4) + abs(rated_item.impact - 4)
        assert len(rated_item.rating_reasons) == moved  # every step has its reason
    assert rating_lines(rated["cost_roi"], "en")[1] == "**Why this deal's rating**"


def test_our_vendor_profile_lowers_what_it_covers_and_ratings_stay_in_range() -> None:
    vendor = VendorProfile(
        company="Acme Chain",
        product="AcmeTrace",
        certifications=["等保三级"],
        integrations=["SAP"],
        references=[{"customer": "某乳企", "scenario": "traceability", "outcome": "召回范围缩小"}],
    )
    deal = Deal(scenario="traceability", language="zh", systems=["SAP"], pains=["追溯慢"])
    items = [item("data_security_privacy", 1, 5), item("vendor_viability", 3, 3), item("integration", 3, 3)]
    rated = {i.category: i for i in rate_risks(items, deal, vendor=vendor)}
    assert rated["data_security_privacy"].likelihood == 1 and not rated["data_security_privacy"].rating_reasons
    assert rated["vendor_viability"].likelihood == 2 and "某乳企" in rated["vendor_viability"].rating_reasons[0]
    assert rated["integration"].likelihood == 2 and "可能性 3 → 2" in rated["integration"].rating_reasons[0]


def test_the_buyers_pains_raise_what_they_point_to_and_lower_what_they_would_show() -> None:
    class Got:
        def __init__(self, label: str) -> None:
            self.label, self.unsure = label, False

    concerns = {"供应商不会愿意录数据": "partner_adoption", "投入太大": "cost_roi"}

    def classify(name: str, text: str) -> Got:
        assert name == "objections"
        return Got(concerns[text])

    deal = Deal(scenario="traceability", language="zh", pains=["供应商不会愿意录数据"], systems=["SAP"])
    items = [item("user_adoption", 3, 4), item("cost_roi", 4, 4), item("regulatory_compliance", 3, 4)]
    rated = {i.category: i for i in rate_risks(items, deal, classify=classify)}
    assert rated["user_adoption"].likelihood == 4 and "供应商不会愿意录数据" in rated["user_adoption"].rating_reasons[0]
    assert rated["cost_roi"].likelihood == 3 and "探询" in rated["cost_roi"].rating_reasons[0]
    assert rated["regulatory_compliance"].likelihood == 3 and not rated["regulatory_compliance"].rating_reasons
