"""The retriever's on-disk snapshot cache: reused when the store is unchanged, rebuilt when it changed or is damaged.

Real Chroma, real indexing. "Loaded from the cache" is observed by making the
store's row read fail: a retriever that still opens did not read the store.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.index.indexer import index_corpus
from copilot.index.models import SearchFilters
from copilot.index.retriever import Mode, Retriever
from copilot.index.retriever_cache import CACHE_DIRNAME, MANIFEST, ROWS, SnapshotCache
from copilot.index.store import ChunkRow, ChunkStore
from copilot.settings import Settings

DOC = """---
id: {id}
type: case
title_zh: {title_zh}
title_en: {title_en}
scenarios: [traceability]
regions: [cn]
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

DOCS = {
    "case-mango": (
        "沃尔玛芒果溯源",
        "Walmart mango traceability",
        "沃尔玛把芒果的溯源时间从大约七天缩短到两秒多，供应商把批次记录写入共享账本。",
        "Walmart cut the time to trace mangoes from about seven days to a couple of seconds.",
    ),
    "case-invoice": (
        "深圳区块链电子发票",
        "Shenzhen blockchain e-invoices",
        "税务局、开票企业和报销方共用一条联盟链，一张发票只能报销一次，重复报销更难。",
        "The tax bureau, issuers and claimants share one consortium chain, so an invoice is claimed only once.",
    ),
    "case-port": (
        "港口提单数字化",
        "Digital bills of lading at the port",
        "港口、船公司和银行在链上交换电子提单，单据流转从几天缩短到几小时，减少了纸质单据的丢失。",
        "The port, carriers and banks exchange electronic bills of lading on a shared ledger, in hours not days.",
    ),
}
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
QUERIES = ["芒果溯源要多久", "invoice claimed only once", "电子提单 银行", "shared ledger"]


def write_doc(corpus: Path, doc_id: str, *, en_suffix: str = "") -> None:
    title_zh, title_en, zh, en = DOCS[doc_id]
    text = DOC.format(id=doc_id, title_zh=title_zh, title_en=title_en, zh=zh, en=en + en_suffix)
    (corpus / f"{doc_id}.md").write_text(text, encoding="utf-8")


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[Settings, ChunkStore, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id in ("case-mango", "case-invoice"):
        write_doc(corpus, doc_id)
    settings = Settings(home=tmp_path / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    index_corpus(settings, store)
    return settings, store, corpus


def cache_dir(settings: Settings) -> Path:
    return settings.index_dir / CACHE_DIRNAME


def snapshots(settings: Settings) -> list[Path]:
    return sorted(p for p in cache_dir(settings).iterdir() if not p.name.startswith("."))


def forbid_store_reads(store: ChunkStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> list[ChunkRow]:
        raise AssertionError("the store was read: the cache was not used")

    monkeypatch.setattr(store, "rows", fail)


def results(retriever: Retriever) -> list[list[tuple[str, str, float, str]]]:
    out = []
    for query in QUERIES:
        for mode in MODES:
            hits = retriever.search(query, k=3, mode=mode)
            out.append([(h.doc_id, h.chunk_id, h.score, h.text) for h in hits])
        hits = retriever.search(query, k=3, filters=SearchFilters(language="en"))
        out.append([(h.doc_id, h.chunk_id, h.score, h.text) for h in hits])
    return out


def test_unchanged_store_reopens_from_the_cache_with_identical_results(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store, _ = indexed
    fresh = Retriever(store, cache=False)
    assert not cache_dir(settings).exists()  # cache=False writes nothing
    first = Retriever(store)
    assert len(snapshots(settings)) == 1

    forbid_store_reads(store, monkeypatch)
    cached = Retriever(store)
    assert cached.rows == fresh.rows == first.rows
    for query in QUERIES:
        tokens = query.split()
        assert np.array_equal(cached._bm25.get_scores(tokens), fresh._bm25.get_scores(tokens))
    assert results(cached) == results(fresh)


def test_adding_a_document_invalidates_the_cache(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store, corpus = indexed
    before = Retriever(store)
    assert "case-port" not in {r.doc_id for r in before.rows}
    old = snapshots(settings)

    write_doc(corpus, "case-port")
    assert index_corpus(settings, store).added == 1
    after = Retriever(store)
    assert after.search("电子提单 银行", k=1)[0].doc_id == "case-port"
    assert snapshots(settings) != old and len(snapshots(settings)) == 1  # the old snapshot is gone

    forbid_store_reads(store, monkeypatch)
    assert Retriever(store).rows == after.rows


def test_removing_a_document_invalidates_the_cache(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = indexed
    assert "case-invoice" in {r.doc_id for r in Retriever(store).rows}
    (corpus / "case-invoice.md").unlink()
    assert index_corpus(settings, store).removed == 1
    after = Retriever(store)
    assert {r.doc_id for r in after.rows} == {"case-mango"}
    assert all(h.doc_id != "case-invoice" for h in after.search("invoice claimed only once", k=3))


def test_changing_a_document_in_place_invalidates_the_cache(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    """Same chunk ids, new text: the key follows Chroma's writes, not the ids."""
    settings, store, corpus = indexed
    before = Retriever(store)
    write_doc(corpus, "case-mango", en_suffix=" Shoppers scan a code to see the record.")
    assert index_corpus(settings, store).updated == 1
    after = Retriever(store)
    assert [r.chunk_id for r in after.rows] == [r.chunk_id for r in before.rows]
    assert "Shoppers scan" in " ".join(r.text for r in after.rows)


def test_refresh_sees_changes_made_by_another_store_handle(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = indexed
    retriever = Retriever(store)
    write_doc(corpus, "case-port")
    index_corpus(settings, ChunkStore.open(settings))
    retriever.refresh()
    assert "case-port" in {r.doc_id for r in retriever.rows}


def test_rebuilt_index_gets_a_new_key(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, _ = indexed
    Retriever(store)
    first = snapshots(settings)
    index_corpus(settings, store, rebuild=True)
    Retriever(store)
    assert snapshots(settings) != first


def damage_rows(snapshot: Path) -> None:
    rows = snapshot / ROWS
    rows.write_bytes(rows.read_bytes()[: rows.stat().st_size // 2])


def damage_bm25(snapshot: Path) -> None:
    target = next(p for p in sorted((snapshot / "bm25").iterdir()) if p.suffix == ".npy")
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit-pattern in the scores: still a loadable array, caught by the checksum
    target.write_bytes(bytes(data))


def damage_manifest(snapshot: Path) -> None:
    (snapshot / MANIFEST).write_text("{not json", encoding="utf-8")


def remove_manifest(snapshot: Path) -> None:
    (snapshot / MANIFEST).unlink()


def empty_rows(snapshot: Path) -> None:
    (snapshot / ROWS).write_bytes(b"")


@pytest.mark.parametrize("damage", [damage_rows, damage_bm25, damage_manifest, remove_manifest, empty_rows])
def test_damaged_cache_is_ignored_and_rebuilt(
    indexed: tuple[Settings, ChunkStore, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: Any,
) -> None:
    settings, store, _ = indexed
    fresh = Retriever(store, cache=False)
    Retriever(store)
    (snapshot,) = snapshots(settings)
    damage(snapshot)

    with caplog.at_level(logging.WARNING, logger="copilot.index.retriever_cache"):
        reopened = Retriever(store)
    assert reopened.rows == fresh.rows
    assert results(reopened) == results(fresh)
    assert "damaged retriever cache" in caplog.text

    forbid_store_reads(store, monkeypatch)  # a good snapshot was written again
    assert Retriever(store).rows == fresh.rows


def test_leftover_of_a_crashed_writer_is_ignored(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer killed before its rename leaves a temporary directory: never read, cleaned up when old."""
    settings, store, _ = indexed
    fresh = Retriever(store, cache=False)
    cache = SnapshotCache.for_store(store)
    assert cache is not None
    key = cache.key(store)
    assert key is not None
    leftover = cache_dir(settings) / f".tmp-{key}-99999-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / ROWS).write_text('{"fields": [], "rows": [', encoding="utf-8")

    assert Retriever(store).rows == fresh.rows
    assert leftover.exists()  # recent: perhaps another process is still writing it
    stale = cache_dir(settings) / ".tmp-old-1-cafebabe"
    stale.mkdir()
    os.utime(stale, (1, 1))
    index_corpus(settings, store, rebuild=True)
    Retriever(store)
    assert not stale.exists()


def test_a_write_while_reading_is_not_cached(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows read while another writer changes the store are not saved under the key read before them."""
    settings, store, _ = indexed
    real_rows = store.rows
    victim = next(r for r in real_rows() if r.doc_id == "case-invoice")

    def rows_then_a_write() -> list[ChunkRow]:
        rows = real_rows()
        store.delete([victim.chunk_id])  # another process writing just after our read
        return rows

    monkeypatch.setattr(store, "rows", rows_then_a_write)
    Retriever(store)
    monkeypatch.setattr(store, "rows", real_rows)
    assert not cache_dir(settings).exists() or not snapshots(settings)
    reopened = Retriever(store)
    assert victim.chunk_id not in {r.chunk_id for r in reopened.rows}


def test_unwritable_cache_only_costs_speed(
    indexed: tuple[Settings, ChunkStore, Path], caplog: pytest.LogCaptureFixture
) -> None:
    settings, store, _ = indexed
    cache_dir(settings).write_text("not a directory", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="copilot.index.retriever_cache"):
        retriever = Retriever(store)
    assert retriever.search("芒果溯源要多久", k=1)[0].doc_id == "case-mango"
    assert "cannot save the retriever cache" in caplog.text


def test_no_cache_without_a_local_chroma_directory(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    """A Chroma server has no local SQLite file to version the store: the retriever builds as before."""
    settings, store, _ = indexed
    remote_like = ChunkStore(store.client, store.embedder, "http://127.0.0.1:8000")
    assert SnapshotCache.for_store(remote_like) is None
    assert Retriever(remote_like).search("芒果溯源要多久", k=1)[0].doc_id == "case-mango"
    assert not cache_dir(settings).exists()
