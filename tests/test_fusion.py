"""Fusion of ranked passages into ranked documents (copilot/index/fusion.py) and the deal's scenario boost."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from copilot.index.fusion import BASE_SLICES, BASELINE, PARAMS, fuse, query_slice
from copilot.index.indexer import index_corpus
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore
from copilot.index.titles import TitleIndex
from copilot.settings import Settings
from tests.test_index import DOCS, write_corpus


def test_baseline_is_reciprocal_rank_of_each_documents_first_passage() -> None:
    scores = fuse(["a", "a", "b"], ["b", "c"], [], BASELINE)
    k, dense = BASELINE.rrf_k, BASELINE.dense
    assert scores == pytest.approx({"a": 1 / (k + 1), "b": 1 / (k + 2) + dense / (k + 1), "c": dense / (k + 2)})


def test_later_passages_add_without_pushing_the_next_document_down() -> None:
    params = replace(BASELINE, more_chunks=0.5)
    scores = fuse(["a", "a", "b"], [], [], params)
    k = params.rrf_k
    assert scores["a"] == pytest.approx(1 / (k + 1) + 0.5 / (k + 2))
    assert scores["b"] == pytest.approx(1 / (k + 2))


def test_title_list_counts_with_its_weight() -> None:
    params = replace(BASELINE, title=0.5)
    assert fuse([], [], ["t"], params) == pytest.approx({"t": 0.5 / (params.rrf_k + 1)})
    assert fuse([], [], ["t"], BASELINE) == {}


def test_scenario_boost_multiplies_only_the_deals_documents() -> None:
    params = replace(BASELINE, scenario_boost=2.0)
    plain = fuse(["a", "b"], [], [], params)
    boosted = fuse(["a", "b"], [], [], params, {"b"})
    assert boosted["a"] == plain["a"] and boosted["b"] == pytest.approx(3 * plain["b"])
    assert boosted["b"] > boosted["a"]  # moved up, and "a" (another scenario) is still there
    assert fuse(["a", "b"], [], [], BASELINE, {"b"}) == plain  # no boost weight: nothing changes


def test_query_slices() -> None:
    assert query_slice("zh", None) == "zh"
    assert query_slice("en", "en") == "en"
    assert query_slice("zh", "en") == "cross" and query_slice("en", "zh") == "cross"
    assert query_slice("zh", None, deal=True) == "zh+deal" and query_slice("en", "zh", deal=True) == "cross+deal"


def test_shipped_weights_keep_the_baseline_without_a_deal() -> None:
    """The tuning kept the old weights for a search without a deal (see fusion.py's docstring)."""
    assert all(PARAMS[name] == BASELINE for name in BASE_SLICES)
    assert all(params.scenario_boost > 0 for name, params in PARAMS.items() if name.endswith("+deal"))


def test_title_index_ranks_by_title_and_respects_the_mask() -> None:
    index = TitleIndex({"mango": ("沃尔玛芒果溯源", "Walmart mango traceability"), "inv": ("电子发票", "E-invoices")})
    index.first = [0, 1]
    assert index.rank(["mango"], None, 5) == ["mango"]
    assert index.rank(["mango"], np.array([False, True]), 5) == []
    assert index.rank([], None, 5) == []


@pytest.fixture()
def retriever(tmp_path: Path) -> Retriever:
    corpus = tmp_path / "corpus"
    docs = [*DOCS, {**DOCS[0], "id": "case-mango-invoice", "scenario": "e_invoice", "title_zh": "芒果发票"}]
    docs[-1]["title_en"] = "Mango invoices"
    write_corpus(corpus, docs)
    settings = Settings(home=tmp_path / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    index_corpus(settings, store)
    return Retriever(store)


def test_prefer_scenario_reorders_but_leaves_nothing_out(retriever: Retriever) -> None:
    query = "芒果溯源 mango traceability seven days"
    plain = [h.doc_id for h in retriever.search(query, k=4)]
    preferred = [h.doc_id for h in retriever.search(query, k=4, prefer_scenario="e_invoice")]
    assert set(preferred) == set(plain)
    assert preferred.index("case-mango-invoice") < plain.index("case-mango-invoice")
    assert {h.doc_id for h in retriever.search(query, k=4, prefer_scenario="energy_carbon")} == set(plain)
