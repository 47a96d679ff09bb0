"""Deal constraints in the forms reps write them, the negotiation section, the vendor profile and the reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.deal import DealError, deal_from_data
from copilot.reading.build import read_deal
from copilot.vendor import VendorError, load_vendor, vendor_from_data

ROOT = Path(__file__).resolve().parent.parent


def test_constraint_forms() -> None:
    listed = deal_from_data({"scenario": "traceability", "constraints": ["预算300万元以内", "must comply with DORA"]})
    assert listed.constraints.declared() == [("预算300万元以内", None), ("must comply with DORA", None)]
    mapping = deal_from_data(
        {"scenario": "traceability", "constraints": {"budget": 3000000, "compliance": "GDPR", "other": ["x", "y"]}}
    )
    assert mapping.constraints.declared() == [
        ("3000000", "budget"),
        ("GDPR", "compliance"),
        ("x", "other"),
        ("y", "other"),
    ]
    mixed = deal_from_data({"scenario": "traceability", "constraints": ["等保三级", {"timeline": "6个月"}]})
    assert mixed.constraints.timeline == "6个月" and mixed.constraints.sentences == ["等保三级"]
    assert "等保三级" in mixed.text()
    # the dump reads back as the same deal
    assert deal_from_data(mixed.model_dump()) == mixed


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ({"budgt": "1"}, "constraints.budgt: unknown field"),
        ({"budget": [1, 2]}, "constraints.budget: Input should be a valid string"),
        ([{"residency": "eu"}], "constraints.residency: unknown field"),
        (["ok", ""], "constraints.sentences[1]: String should have at least 1 character"),
    ],
)
def test_bad_constraints_name_the_item(constraints: object, message: str) -> None:
    with pytest.raises(DealError, match=message.replace("[", r"\[").replace("]", r"\]")):
        deal_from_data({"scenario": "traceability", "constraints": constraints}, "deal.yaml")


def test_negotiation_walk_away_side() -> None:
    issue = {"name": "price", "unit": "万元", "target": 300, "walk_away": 260, "better": "up"}
    deal = deal_from_data({"scenario": "traceability", "negotiation": {"issues": [issue]}})
    assert deal.negotiation is not None and deal.negotiation.issues[0].walk_away == 260
    with pytest.raises(DealError, match=r"negotiation.issues\[0\]: walk_away 350 is above the target 300"):
        deal_from_data({"scenario": "traceability", "negotiation": {"issues": [{**issue, "walk_away": 350}]}})
    with pytest.raises(DealError, match="listed twice"):
        deal_from_data({"scenario": "traceability", "negotiation": {"issues": [issue, issue]}})


def test_vendor_profile(tmp_path: Path) -> None:
    profile = load_vendor(ROOT / "examples" / "vendor.yaml")
    assert profile.product and profile.capabilities and profile.not_offered
    with pytest.raises(VendorError, match=r"vendor.yaml: capabilities: Input should be a valid list"):
        vendor_from_data({"company": "c", "product": "p", "capabilities": "all"}, "vendor.yaml")
    bad = tmp_path / "v.yaml"
    bad.write_text("company: a\nproduct: b\n  oops: [\n", encoding="utf-8")
    with pytest.raises(VendorError, match=r"v.yaml:\d+: invalid YAML"):
        load_vendor(bad)
    with pytest.raises(VendorError, match="vendor profile not found"):
        load_vendor(tmp_path / "missing.yaml")


def test_reading_chain_type_and_declared_constraints() -> None:
    deal = deal_from_data({"scenario": "gov_data_sharing", "constraints": {"compliance": ["等保三级"]}})
    reading = read_deal(deal)
    assert reading.chain_type == "permissioned" and reading.chain_type_source == "scenario"
    assert [(c.kind, c.source) for c in reading.constraints] == [("compliance", "declared")]
    fixed = read_deal(deal.model_copy(update={"chain_type": "consortium"}))
    assert fixed.chain_type == "consortium" and fixed.chain_type_source == "deal"
