"""Deal reading (copilot.reading): constraint classes zh/en, values, regimes, industry, chain type, vendor gaps.

A light knowledge base stands in for the real one: the reading needs only the classifiers (the real
offline embedder), the regimes and the industry lexicons of the shipped corpus; no index is built.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from copilot import paths
from copilot.corpus.lexicons import load_industries, load_regimes
from copilot.corpus.loader import load_corpus
from copilot.deal import DealError, deal_from_data, load_deal
from copilot.reading.build import match_industry, read_deal
from copilot.reading.extract import find_amount, find_date, find_months
from copilot.reading.render import render_reading
from copilot.understand.hub import Understanding
from copilot.vendor import load_vendor

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "evals" / "datasets" / "understanding" / "constraints.jsonl"


@pytest.fixture(scope="module")
def light_kb() -> Any:
    from copilot.index.embedding import UseEmbeddingFunction

    corpus = paths.corpus_dir()
    ids = {d.id for d in load_corpus(corpus).documents}
    return SimpleNamespace(
        understanding=Understanding(UseEmbeddingFunction().encode),
        regimes=load_regimes(corpus, ids)[0],
        industries=load_industries(corpus)[0],
    )


def _examples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_amounts_and_timelines_of_the_labelled_set_are_read_exactly() -> None:
    wrong: list[tuple[str, object]] = []
    for ex in _examples():
        if ex["label"] == "budget":
            got = find_amount(ex["text"], ex["lang"])
            if got is None or (got.value, got.currency) != (ex["amount"], ex["currency"]):
                wrong.append((ex["text"], got))
        elif ex["label"] == "timeline":
            got_t = (find_months(ex["text"]), find_date(ex["text"]))
            if got_t != (ex.get("months"), ex.get("date")):
                wrong.append((ex["text"], got_t))
    assert not wrong


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("预算300万元以内", 3_000_000, "CNY"),
        ("客户预算大概三百万", 3_000_000, "CNY"),
        ("Budget capped at EUR 2m", 2_000_000, "EUR"),
        ("$1.5 million all-in", 1_500_000, "USD"),
        ("预算不超过0.5亿", 50_000_000, "CNY"),
    ],
)
def test_money_forms(text: str, amount: float, currency: str) -> None:
    got = find_amount(text, "zh" if not text.isascii() else "en")
    assert got is not None and (got.value, got.currency) == (amount, currency)


def test_no_money_in_years_or_counts() -> None:
    assert find_amount("2027年第一季度上线，三年运维", "zh") is None
    assert find_amount("24/7 support in phase one", "en") is None
    assert find_months("上线时间：2027年第一季度") is None
    assert find_months("2028年上半年全省推广") is None


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("半年内上线", 6),
        ("POC within half a year", 6),
        ("Go-live in Half A Year", 6),
        ("18 months, or half a year", 18),
        ("一年半内完成", 18),
        ("两年半", 30),
        ("one and a half years", 18),
        ("三个半月上线", 4),
        ("两个半月上线", 3),
        ("1.5 years", 18),
    ],
)
def test_halves_count(text: str, months: int) -> None:
    assert find_months(text) == months


CLASS_CASES = [
    ("预算控制在两百万元以内", "budget"),
    ("The budget is capped at USD 800k", "budget"),
    ("九个月内完成试点", "timeline"),
    ("Go-live within nine months of signing", "timeline"),
    ("需要通过等保三级测评", "compliance"),
    ("must comply with DORA", "compliance"),
    ("所有数据必须留在客户机房", "data_residency"),
    ("no patient data outside the EU", "data_residency"),
    ("需要集团信息中心审批", "other"),
    ("Procurement requires three competing quotes", "other"),
]


@pytest.mark.parametrize(("text", "kind"), CLASS_CASES)
def test_each_constraint_class_zh_and_en(light_kb: Any, text: str, kind: str) -> None:
    deal = deal_from_data({"scenario": "traceability", "constraints": [text]})
    (pc,) = read_deal(deal, light_kb).constraints
    assert pc.kind == kind, pc.reason
    assert pc.source == "classified"


def test_values_regimes_and_boundaries(light_kb: Any) -> None:
    deal = deal_from_data(
        {
            "scenario": "trade_finance",
            "region": "eu",
            "constraints": [
                "Budget capped at EUR 2m",
                "pilot live by end of Q2 2027",
                "must comply with DORA",
                "HIPAA-compliant handling of PHI",
                "no patient data outside the EU",
                {"timeline": "6个月内上线"},
                {"compliance": ["等保三级"]},
            ],
        }
    )
    reading = read_deal(deal, light_kb)
    assert reading.budget is not None and (reading.budget.amount, reading.budget.currency) == (2_000_000, "EUR")
    assert reading.timeline_months == 6
    assert any(c.date == "2027-06" for c in reading.of_kind("timeline"))
    assert set(reading.regimes) == {"dora", "hipaa", "mlps"}
    assert [c.boundary for c in reading.of_kind("data_residency")] == ["eu_only"]
    policies = {r.key: r.policy_doc for r in light_kb.regimes}
    assert policies["dora"] and policies["hipaa"] is None  # one regime with a policy document, one without


def test_list_mapping_and_mixed_forms_load(light_kb: Any) -> None:
    as_list = deal_from_data({"scenario": "traceability", "constraints": ["预算300万元以内", "等保三级"]})
    as_map = deal_from_data(
        {"scenario": "traceability", "constraints": {"budget": "预算300万元以内", "compliance": "等保三级"}}
    )
    mixed = deal_from_data(
        {"scenario": "traceability", "constraints": ["预算300万元以内", {"compliance": ["等保三级"]}]}
    )
    for deal in (as_list, as_map, mixed):
        reading = read_deal(deal, light_kb)
        assert {c.kind for c in reading.constraints} == {"budget", "compliance"}
        assert reading.budget is not None and reading.budget.amount == 3_000_000
        assert reading.regimes == ["mlps"]


@pytest.mark.parametrize(
    ("constraints", "names"),
    [
        ({"budgett": "300万"}, "constraints.budgett: unknown field"),
        ({"compliance": [{"x": 1}]}, "constraints.compliance[0]"),
        (["预算300万", {"timeline": ["a", "b"]}], "constraints.timeline"),
        ([""], "constraints.sentences[0]"),
    ],
)
def test_bad_constraints_name_the_item(tmp_path: Path, constraints: Any, names: str) -> None:
    path = tmp_path / "deal.json"
    path.write_text(json.dumps({"scenario": "traceability", "constraints": constraints}), encoding="utf-8")
    with pytest.raises(DealError) as err:
        load_deal(path)
    assert names in str(err.value) and str(path) in str(err.value)


def test_industry_matching(light_kb: Any) -> None:
    dairy = deal_from_data({"scenario": "traceability", "industry": "乳制品", "customer": "北方乳业集团"})
    pharma = deal_from_data({"scenario": "traceability", "industry": "Pharmaceutical distribution"})
    by_name = deal_from_data({"scenario": "traceability", "customer": "蒙北乳业集团"})
    none = deal_from_data({"scenario": "traceability", "industry": "宇航"})
    assert match_industry(dairy, light_kb.industries).key == "dairy"  # type: ignore[union-attr]
    assert match_industry(pharma, light_kb.industries).key == "pharma"  # type: ignore[union-attr]
    assert match_industry(by_name, light_kb.industries).key == "dairy"  # type: ignore[union-attr]
    assert match_industry(none, light_kb.industries) is None


def test_chain_type_follows_scenario_unless_set(light_kb: Any) -> None:
    assert read_deal(deal_from_data({"scenario": "gov_data_sharing"}), light_kb).chain_type == "permissioned"
    set_ = read_deal(deal_from_data({"scenario": "traceability", "chain_type": "public"}), light_kb)
    assert (set_.chain_type, set_.chain_type_source) == ("public", "deal")


def test_vendor_gaps_and_nothing_outside_the_profile(light_kb: Any) -> None:
    vendor = load_vendor(ROOT / "examples" / "vendor.yaml")
    deal = deal_from_data(
        {
            "scenario": "trade_finance",
            "systems": ["SAP ERP", "Murex"],
            "pains": ["Letters of credit take ten days to check"],
            "constraints": [
                "must comply with DORA",
                "等保三级",
                "no patient data outside the EU",
                "必须私有化部署",
                "数据不出境",
            ],
        }
    )
    gaps = read_deal(deal, light_kb, vendor).vendor_gaps
    needs = {g.need for g in gaps}
    assert "Murex" in needs and "SAP ERP" not in needs  # SAP is an integration of the profile
    assert "must comply with DORA" in needs and "等保三级" not in needs  # MLPS level 3 is a certification
    assert "no patient data outside the EU" in needs  # EU data centres are listed as not offered
    assert "必须私有化部署" not in needs  # on-premises is a deployment option
    assert "数据不出境" not in needs  # kept in China by on-premises; "欧盟境内数据中心" (not offered) is another place
    assert all(g.reason for g in gaps)
    assert read_deal(deal, light_kb).vendor_gaps == []  # without a profile: no gaps, generic output


def test_rendered_reading_shows_every_constraint(light_kb: Any) -> None:
    deal = deal_from_data(
        {"scenario": "traceability", "language": "en", "constraints": ["EUR 2m", "HIPAA", "something odd"]}
    )
    reading = read_deal(deal, light_kb)
    text = render_reading(reading, {r.key: r for r in light_kb.regimes})
    for c in ["EUR 2m", "HIPAA", "something odd", "2,000,000 EUR", "confirm with legal", "No vendor profile"]:
        assert c in text


def test_nego_deal_check(tmp_path: Path, nego_home: Path) -> None:
    from typer.testing import CliRunner

    from nego.base import app
    from nego.cli import main as _entry  # noqa: F401  (registers every command)

    deal = tmp_path / "deal.yaml"
    deal.write_text(
        "customer: 北方乳业集团\nindustry: 乳制品\nscenario: traceability\nsystems: [Murex]\n"
        "constraints:\n  - 预算300万元以内\n  - 等保三级\n  - compliance: [must comply with DORA]\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    out = runner.invoke(app, ["deal", "check", str(deal), "--vendor", str(ROOT / "examples" / "vendor.yaml")])
    assert out.exit_code == 0, out.output
    for shown in ["3,000,000 CNY", "乳制品", "DORA", "Murex", "供应商缺口", "consortium"]:
        assert shown in out.output
    as_json = runner.invoke(app, ["deal", "check", str(deal), "--json"])
    data = json.loads(as_json.output)
    assert {c["kind"] for c in data["constraints"]} == {"budget", "compliance"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: traceability\nconstraints: {budgett: 1}\n", encoding="utf-8")
    failed = runner.invoke(app, ["deal", "check", str(bad)])
    assert failed.exit_code == 2 and "constraints.budgett: unknown field" in failed.output


def test_bad_lexicons_and_regimes_are_corpus_problems(tmp_path: Path) -> None:
    (tmp_path / "industries").mkdir()
    (tmp_path / "industries" / "x.yaml").write_text("key: x\nnames: {zh: [乳业]}\nactors: []\n", encoding="utf-8")
    (tmp_path / "regimes.yaml").write_text(
        "- key: dora\n  label: {zh: DORA, en: DORA}\n  names: {en: [DORA]}\n  policy_doc: policy-eu-nope\n",
        encoding="utf-8",
    )
    loaded = load_corpus(tmp_path)
    problems = [str(p) for p in loaded.problems]
    assert any(p.startswith("industries/x.yaml:3: actors") for p in problems), problems
    assert any(p.startswith("regimes.yaml:1: [0].policy_doc: unknown document id") for p in problems), problems
    assert [r.policy_doc for r in loaded.regimes] == [None]  # an unknown policy is never cited
    assert loaded.documents == [] and loaded.industries == []


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("他们要求等保三级", "compliance"),
        ("客户刚说预算300万元以内", "budget"),
        ("The bank must comply with DORA", "compliance"),
        ("no patient data outside the EU", "data_residency"),
        ("等保三级是什么？", None),
        ("他说供应商不会愿意录数据，怎么回应？", None),
        ("Explain PBFT to a CFO in two sentences", None),
    ],
)
def test_chat_picks_up_a_stated_constraint(light_kb: Any, message: str, kind: str | None) -> None:
    from copilot.reading.pickup import constraint_in_message

    deal = deal_from_data({"scenario": "trade_finance", "constraints": {"compliance": ["GDPR"]}})
    picked = constraint_in_message(message, deal, light_kb)
    if kind is None:
        assert picked is None
        return
    assert picked is not None
    new_deal, pc = picked
    assert pc.kind == kind and message in new_deal.constraints.texts()
    assert "GDPR" in new_deal.constraints.texts()  # nothing the deal had is lost
    assert constraint_in_message(message, new_deal, light_kb) is None  # said twice, added once


def test_an_adapted_singular_keeps_its_plural_form_right() -> None:
    """Swapping a singular ("orchard") writes the singular of the deal's term, not a cut plural ("pharmacie")."""
    from copilot.reading.industry import Adapter

    adapter = Adapter("en", {"orchards": "hospital pharmacies", "test reports": "certificates of analysis"})
    assert adapter.text("Each orchard files a test report.") == (
        "Each hospital pharmacy files a certificate of analysis."
    )
