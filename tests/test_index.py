"""Indexing and search on a small corpus: incremental updates, filters, reopen, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.index.indexer import StrictIndexError, index_corpus, index_status
from copilot.index.models import SearchFilters
from copilot.index.retriever import QueryError, Retriever
from copilot.index.store import ChunkStore
from copilot.settings import Settings
from nego.cli import app

DOC = """---
id: {id}
type: {type}
title_zh: {title_zh}
title_en: {title_en}
scenarios: [{scenario}]
regions: [{region}]
sources:
  - title: Source
    url: https://example.org/{id}
updated: 2026-11-24
---

## 中文

### 要点
{zh}

## English

### Key points
{en}
"""

DOCS = [
    dict(
        id="case-mango",
        type="case",
        title_zh="沃尔玛芒果溯源",
        title_en="Walmart mango traceability",
        scenario="traceability",
        region="us",
        zh="沃尔玛把芒果的溯源时间从大约七天缩短到两秒多，供应商按要求把批次记录写入共享账本。",
        en="Walmart cut the time to trace mangoes from about seven days to a couple of seconds; suppliers "
        "write batch records into a shared ledger.",
    ),
    dict(
        id="case-invoice",
        type="case",
        title_zh="深圳区块链电子发票",
        title_en="Shenzhen blockchain e-invoices",
        scenario="e_invoice",
        region="cn",
        zh="税务局、开票企业和报销方共用一条联盟链，一张发票只能报销一次，虚开和重复报销更难。",
        en="The tax bureau, issuers and claimants share one consortium chain, so an invoice can be claimed "
        "only once and duplicate claims become hard.",
    ),
    dict(
        id="policy-privacy",
        type="policy",
        title_zh="个人信息删除权",
        title_en="Right to deletion of personal information",
        scenario="gov_data_sharing",
        region="cn",
        zh="个人信息应当在目的实现后删除；技术上难以删除的，停止除存储和安全措施以外的处理，因此个人信息放在链下。",
        en="Personal information must be deleted once the purpose is achieved; where deletion is technically "
        "difficult, stop all processing except storage and security, so personal data stays off-chain.",
    ),
]


def write_corpus(root: Path, docs: list[dict[str, str]]) -> None:
    (root / "cases").mkdir(parents=True, exist_ok=True)
    (root / "policies").mkdir(parents=True, exist_ok=True)
    for doc in docs:
        folder = "cases" if doc["type"] == "case" else "policies"
        (root / folder / f"{doc['id']}.md").write_text(DOC.format(**doc), encoding="utf-8")


@pytest.fixture()
def small(tmp_path: Path) -> tuple[Settings, ChunkStore, Path]:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, DOCS)
    settings = Settings(home=tmp_path / "home", corpus_dir=corpus)
    return settings, ChunkStore.open(settings), corpus


def test_index_then_noop_then_update_then_remove(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = small
    first = index_corpus(settings, store)
    assert (first.documents, first.added, first.updated, first.removed) == (3, 3, 0, 0)
    assert first.chunks == store.count() == 6  # one chunk per language per document

    again = index_corpus(settings, store)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)

    changed = dict(DOCS[0], en=DOCS[0]["en"] + " Shoppers scan a code to see the record.")
    write_corpus(corpus, [changed])
    update = index_corpus(settings, store)
    assert (update.added, update.updated, update.unchanged) == (0, 1, 2)
    assert "Shoppers scan" in " ".join(r.text for r in store.rows())

    (corpus / "cases" / "case-invoice.md").unlink()
    removal = index_corpus(settings, store)
    assert (removal.removed, removal.documents) == (1, 2)
    assert {r.doc_id for r in store.rows()} == {"case-mango", "policy-privacy"}
    assert store.count() == 4  # no duplicates, nothing stale

    status = index_status(settings, store)
    assert (status.documents, status.chunks) == (2, 4) and status.last_update


def test_half_written_document_is_redone(small: tuple[Settings, ChunkStore, Path]) -> None:
    """A crash between upserting a document's chunks and finishing leaves it incomplete: the next run redoes it."""
    settings, store, _ = small
    index_corpus(settings, store)
    victim = next(r for r in store.rows() if r.doc_id == "case-mango")
    store.delete([victim.chunk_id])
    report = index_corpus(settings, store)
    assert (report.updated, report.unchanged) == (1, 2)
    assert store.count() == 6


def test_rebuild_re_embeds_everything(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, _ = small
    index_corpus(settings, store)
    report = index_corpus(settings, store, rebuild=True)
    assert (report.added, report.unchanged, report.chunks) == (3, 0, 6)


def test_strict_mode_indexes_nothing_on_a_problem(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = small
    (corpus / "cases" / "broken.md").write_text("---\nid: case-broken\n---\n", encoding="utf-8")
    with pytest.raises(StrictIndexError) as info:
        index_corpus(settings, store, strict=True)
    assert any(p.startswith("cases/broken.md:") for p in info.value.problems)
    assert store.count() == 0
    lenient = index_corpus(settings, store)
    assert lenient.documents == 3 and lenient.problems


def test_search_hybrid_and_filters(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, _ = small
    index_corpus(settings, store)
    retriever = Retriever(store)
    assert retriever.search("沃尔玛芒果溯源要多久", k=1)[0].doc_id == "case-mango"
    assert retriever.search("which law says personal data must be deleted", k=1)[0].doc_id == "policy-privacy"
    # Cross-lingual: a Chinese question answered from English passages only.
    (hit,) = retriever.search("一张发票只能报销一次", k=1, filters=SearchFilters(language="en"))
    assert hit.doc_id == "case-invoice" and hit.language == "en"

    policies = retriever.search("traceability", k=5, filters=SearchFilters(type="policy"))
    assert [h.doc_id for h in policies] == ["policy-privacy"]
    cn = retriever.search("invoice", k=5, filters=SearchFilters(region="cn", scenario="e_invoice"))
    assert [h.doc_id for h in cn] == ["case-invoice"]
    assert retriever.search("invoice", k=5, filters=SearchFilters(scenario="energy_carbon")) == []


def test_one_hit_per_document_in_the_query_language(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, _ = small
    index_corpus(settings, store)
    hits = Retriever(store).search("芒果 mango", k=3)
    assert len({h.doc_id for h in hits}) == len(hits)
    assert hits[0].language == "zh"


def test_empty_query_is_an_error(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, _ = small
    index_corpus(settings, store)
    with pytest.raises(QueryError, match="empty"):
        Retriever(store).search("   ")


def test_reopen_in_a_new_process_and_cli_json(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = small
    index_corpus(settings, store)
    in_process = [h.doc_id for h in Retriever(store).search("发票 重复报销", k=3)]
    env = dict(os.environ, NEGO_HOME=str(settings.home), NEGO_CORPUS_DIR=str(corpus))
    out = subprocess.run(
        [sys.executable, "-m", "nego", "search", "发票 重复报销", "-k", "3", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    hits = json.loads(out.stdout)
    assert [h["doc_id"] for h in hits] == in_process
    fields = {"doc_id", "chunk_id", "title_zh", "title_en", "type", "score", "text", "sources", "language"}
    assert fields <= set(hits[0])
    assert hits[0]["sources"][0]["url"].startswith("https://example.org/")


def test_cli_index_reports_problems_and_strict_fails(small: tuple[Settings, ChunkStore, Path]) -> None:
    settings, _, corpus = small
    (corpus / "cases" / "broken.md").write_text("---\nid: case-broken\n---\n", encoding="utf-8")
    runner = CliRunner()
    env = {"NEGO_HOME": str(settings.home)}
    strict = runner.invoke(app, ["index", "--corpus", str(corpus), "--strict"], env=env)
    assert strict.exit_code == 1
    assert "cases/broken.md:2: type: Field required" in strict.output
    lenient = runner.invoke(app, ["index", "--corpus", str(corpus)], env=env)
    assert lenient.exit_code == 0, lenient.output
    assert "3 documents, 6 chunks: 3 added" in lenient.output


def test_cli_rejects_unknown_filter_values(nego_home: Path) -> None:
    result = CliRunner().invoke(app, ["search", "x", "--scenario", "farming"])
    assert result.exit_code == 2
    assert "--scenario: unknown value 'farming'" in result.output


def test_reads_are_paged(small: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Large collections are read in pages (an unbounded get() fails at 100k passages)."""
    import copilot.index.store as store_module

    settings, store, _ = small
    index_corpus(settings, store)
    monkeypatch.setattr(store_module, "READ_PAGE", 4)
    assert len(store.rows()) == 6
    assert sorted(store.manifest()) == ["case-invoice", "case-mango", "policy-privacy"]
    assert index_corpus(settings, store).unchanged == 3


def test_openai_compatible_embedding_endpoint(tmp_path: Path, openai_server: Any) -> None:
    """The optional embedder: vectors from an OpenAI-compatible /embeddings endpoint, in their own collection."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, DOCS)
    settings = Settings(
        home=tmp_path / "home",
        corpus_dir=corpus,
        embedding="openai",
        embedding_model="test-embedder",
        embedding_base_url=openai_server.base_url,
    )
    store = ChunkStore.open(settings)
    assert store.collection_name == "nego-nego-openai-compatible"
    report = index_corpus(settings, store)
    assert (report.added, report.chunks) == (3, 6)
    embedding_calls = [r for r in openai_server.requests if r.path.endswith("/embeddings")]
    assert embedding_calls and embedding_calls[0].body["model"] == "test-embedder"
    hits = Retriever(store).search("发票 重复报销", k=1)
    assert hits[0].doc_id == "case-invoice"  # BM25 carries it; the endpoint's vectors join the fusion
    # Reopening the collection uses the same (registered) embedder, never Chroma's downloading default.
    assert ChunkStore.open(settings).collection.count() == 6
