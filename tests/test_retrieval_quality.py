"""Retrieval quality on the gold queries, measured on the shipped corpus.

Hybrid must be at least as good as the better of BM25-only and dense-only on every
language slice (zh, en, cross-lingual), and recall@5 must reach 0.90 overall.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from copilot.vocabulary import DOC_TYPES, SCENARIOS
from evals.retrieval import DatasetError, default_dataset, evaluate, load_gold


@pytest.fixture(scope="module")
def report(shipped_index: Any) -> dict[str, Any]:
    _, _, retriever = shipped_index
    return evaluate(retriever, load_gold(default_dataset()))


def test_gold_set_shape() -> None:
    gold = load_gold(default_dataset())
    assert len(gold) >= 80
    langs = Counter(q.lang for q in gold)
    assert abs(langs["zh"] - langs["en"]) <= len(gold) * 0.1
    assert sum(1 for q in gold if q.slice == "cross") >= 25
    assert {q.scenario for q in gold if q.scenario} == set(SCENARIOS)
    assert {q.type for q in gold if q.type} == set(DOC_TYPES)


def test_hybrid_recall_overall(report: dict[str, Any]) -> None:
    assert report["metrics"]["hybrid"]["all"]["recall@5"] >= 0.90


@pytest.mark.parametrize("slice_name", ["zh", "en", "cross"])
@pytest.mark.parametrize("metric", ["recall@5", "mrr@10"])
def test_hybrid_at_least_as_good_as_either_method(report: dict[str, Any], slice_name: str, metric: str) -> None:
    metrics = report["metrics"]
    best_single = max(metrics["bm25"][slice_name][metric], metrics["dense"][slice_name][metric])
    assert metrics["hybrid"][slice_name][metric] >= best_single


def test_bad_dataset_line_is_named(tmp_path: Any) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "query": "x", "lang": "zh", "relevant": ["d"]}\n{"id": "b", "query": "y"}\n')
    with pytest.raises(DatasetError, match=r"gold.jsonl:2: lang: Field required"):
        load_gold(path)
