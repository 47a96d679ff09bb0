"""Industry wording and chain type: the adapter, the contradicting-line filter and the eval metrics (no index)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from copilot import paths
from copilot.corpus.lexicons import load_industries, load_regimes
from copilot.corpus.loader import load_corpus
from copilot.corpus.models import GlossaryEntry, PlaybookEntry
from copilot.deal import deal_from_data
from copilot.reading.build import read_deal
from copilot.reading.chains import LineMatcher, applies, contradicting_lines
from copilot.reading.industry import Adapter
from copilot.results import RiskItem, RisksResult
from copilot.understand.hub import Understanding
from copilot.vendor import load_vendor
from evals import deal_metrics

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus() -> Any:
    return load_corpus(paths.corpus_dir())


@pytest.fixture(scope="module")
def light_kb(corpus: Any) -> Any:
    from copilot.index.embedding import UseEmbeddingFunction

    root = paths.corpus_dir()
    return SimpleNamespace(
        understanding=Understanding(UseEmbeddingFunction().encode),
        regimes=load_regimes(root, {d.id for d in corpus.documents})[0],
        industries=load_industries(root)[0],
    )


def test_dairy_reading_swaps_the_produce_wording(light_kb: Any) -> None:
    deal = deal_from_data(
        {
            "scenario": "traceability",
            "industry": "乳制品",
            "pains": ["种植户这个词客户自己也用"],
            "customer": "北方乳业",
        }
    )
    reading = read_deal(deal, light_kb)
    assert reading.industry is not None and reading.industry.key == "dairy"
    swaps = reading.industry_swaps["zh"]
    assert swaps["种植户"] == "牧场" and "施肥" in swaps
    adapter = reading.adapter("zh")
    assert (
        adapter.text("选定一到两个试点品类，以及愿意参与的种植户和物流商")
        == "选定一到两个试点品类，以及愿意参与的牧场和经销商"
    )
    assert "施肥" not in adapter.text("种植户在手机上记录施肥。")
    # the buyer's own words and a dated fact of a cited passage are never changed
    assert adapter.text("种植户这个词客户自己也用") == "种植户这个词客户自己也用"
    dated = "沃尔玛在2018年9月要求种植户接入系统。"
    assert adapter.text(dated) == dated


def test_english_swaps_keep_capitals_and_singulars(light_kb: Any) -> None:
    deal = deal_from_data({"scenario": "traceability", "industry": "Pharmaceutical distribution", "language": "en"})
    adapter = read_deal(deal, light_kb).adapter("en")
    out = adapter.text("Growers and logistics firms enter data. Trace back to the grower.")
    assert "rower" not in out and out.startswith(out[0].upper())


def test_no_lexicon_drops_the_playbook_industry_sentences(light_kb: Any) -> None:
    deal = deal_from_data({"scenario": "traceability", "industry": "航空航天"})
    reading = read_deal(deal, light_kb)
    assert reading.industry is None and reading.industry_drops["zh"]
    out = reading.adapter("zh").text("先做基线测量。种植户按新流程录入。\n- 种植户录入施肥记录\n- 门店扫码验证")
    assert "种植户" not in out and "先做基线测量。" in out and "- 门店扫码验证" in out


def test_own_industry_or_none_keeps_the_wording(light_kb: Any) -> None:
    for data in ({"scenario": "traceability", "industry": "果蔬"}, {"scenario": "traceability"}):
        reading = read_deal(deal_from_data(data), light_kb)
        assert reading.adapter("zh").text("种植户录入施肥记录") == "种植户录入施肥记录"


def test_adapter_walks_a_result_but_not_its_citations() -> None:
    adapter = Adapter("zh", {"种植户": "牧场"})
    item = RiskItem(
        risk_id="r",
        category="user_adoption",
        category_label="x",
        risk="种植户不愿录入",
        description="种植户",
        likelihood=3,
        impact=3,
        mitigations=["培训种植户"],
        owner="joint",
        warning_signals=[],
        evidence=[],
    )
    result = RisksResult(language="zh", items=[item], text="种植户")
    out = adapter.model(result)
    assert out.items[0].risk == "牧场不愿录入" and out.items[0].mitigations == ["培训牧场"] and out.text == "牧场"


def test_glossary_and_playbook_lines_declare_chain_types(corpus: Any) -> None:
    glossary = [d.entry for d in corpus.documents if isinstance(d.entry, GlossaryEntry)]
    public = next(e for e in glossary if e.id == "term-public-chain")
    assert public.applies_to == ["public"] and not applies(public.applies_to, "consortium")
    assert applies(None, "consortium") and applies(["any"], "public")
    playbooks = [d.entry for d in corpus.documents if isinstance(d.entry, PlaybookEntry)]
    lines = contradicting_lines(glossary, playbooks, "consortium", "zh")
    assert public.outcome.zh in lines
    assert public.outcome.zh not in contradicting_lines(glossary, playbooks, "public", "zh")
    matcher = LineMatcher(lines)
    assert matcher.copied("- " + public.outcome.zh.split("；")[0] + "。")
    assert not matcher.copied("与公有链不同，联盟链的成员都是已知机构。")  # a contrast phrased as one
    adapter = Adapter("zh", lines=matcher)
    assert adapter.text(f"开场。{public.outcome.zh}") == "开场。"


def test_deal_metrics(light_kb: Any) -> None:
    deal = deal_from_data(
        {
            "scenario": "traceability",
            "industry": "乳制品",
            "constraints": ["等保三级", "must comply with DORA", "奇怪的合规"],
        }
    )
    reading = read_deal(deal, light_kb)
    leaked = deal_metrics.industry_leakage("请种植户录入。牧场录入。", reading, light_kb.industries, "zh")
    assert leaked.score == 0.0 and "种植户" in leaked.problems[0]
    fact = "沃尔玛在2018年9月要求种植户接入。生鲜乳运输全程记录。"
    assert deal_metrics.industry_leakage(fact, reading, light_kb.industries, "zh").passed

    def item(risk_id: str) -> RiskItem:
        return RiskItem(
            risk_id=risk_id,
            category="regulatory_compliance",
            category_label="x",
            risk="x",
            description="x",
            likelihood=4,
            impact=4,
            mitigations=[],
            owner="joint",
            warning_signals=[],
            evidence=[],
        )

    kinds = [c.kind for c in reading.constraints]
    assert kinds.count("compliance") >= 2
    full = RisksResult(language="zh", items=[item("regime-mlps"), item("regime-dora"), item("regime-unknown-1")])
    partial = RisksResult(language="zh", items=[item("regime-mlps")])
    assert deal_metrics.compliance_coverage(reading, full).passed
    assert not deal_metrics.compliance_coverage(reading, partial).passed

    vendor = load_vendor(ROOT / "examples" / "vendor.yaml")
    good = "我方部署方式「政务云 / government cloud」可满足这一要求。我方已有：等保三级 / MLPS level 3（见供应商档案）"
    assert deal_metrics.claimed_items(good) == ["政务云 / government cloud", "等保三级 / MLPS level 3"]
    assert deal_metrics.vendor_claims(good, vendor).passed
    bad = "我方部署方式「欧盟境内数据中心 / data centres in the EU」可满足这一要求。We hold: ISO 27001 (vendor profile)"
    assert deal_metrics.vendor_claims(bad, vendor).problems and deal_metrics.vendor_claims(good, None).score < 1


def test_relevance_scores_with_reasons(light_kb: Any) -> None:
    from copilot.reading.relevance import Relevance, candidates

    vendor = load_vendor(ROOT / "examples" / "vendor.yaml")
    deal = deal_from_data(
        {
            "scenario": "traceability",
            "industry": "乳制品",
            "audience": ["质量总监"],
            "pains": ["奶源批次出了问题要两天才能查清"],
            "constraints": ["等保三级", "数据不出政务外网"],
        }
    )
    reading = read_deal(deal, light_kb, vendor)
    rel = Relevance(reading, light_kb.industries, {r.key: r for r in light_kb.regimes})
    best = rel.score("请质量总监说明：奶源批次出了问题，牧场的记录能否在等保三级的系统里查到？", "question")
    assert best.score >= 4 and any(r.startswith("pain/goal") for r in best.reasons)
    assert any(r.startswith("industry: 牧场") for r in best.reasons) and any("audience" in r for r in best.reasons)
    plain = rel.score("今天天气很好。", "question")
    assert plain.score == 0 and plain.reasons == ["scenario only"]
    ordered = rel.order([plain.text, best.text, "牧场怎么录入？"], "question", keep_at_least=2)
    assert [s.text for s in ordered] == [best.text, "牧场怎么录入？"]  # the unrelated one is dropped
    result = RisksResult(language="zh", items=[], text="")
    assert candidates(result) == []


def test_playbook_lines_about_consortium_chains_are_not_claims_in_a_public_chain_story(corpus: Any) -> None:
    glossary = [d.entry for d in corpus.documents if isinstance(d.entry, GlossaryEntry)]
    playbooks = [d.entry for d in corpus.documents if isinstance(d.entry, PlaybookEntry)]
    energy = next(p for p in playbooks if p.scenario == "energy_carbon")
    line = next(o.answer for o in energy.objections if o.answer.applies_to)
    assert line.applies_to == ["consortium", "permissioned"]
    assert line.en in contradicting_lines(glossary, playbooks, "public", "en")
    assert line.en not in contradicting_lines(glossary, playbooks, "consortium", "en")
