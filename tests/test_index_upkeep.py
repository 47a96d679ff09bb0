"""Index upkeep that stays cheap as the corpus grows: a no-op run reads nothing, a one-document change
parses one file, the manifest comes from one SQLite query, the tokenizer loads only when needed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from test_index import DOCS, write_corpus

import copilot.index.corpus_cache as corpus_cache
import copilot.index.indexer as indexer
from copilot.index.indexer import StrictIndexError, index_corpus
from copilot.index.store import ChunkStore
from copilot.settings import Settings


def age(root: Path, seconds: float = 60.0) -> None:
    """Give every corpus file a modification time in the past (fresh files are never trusted by their stat)."""
    past = time.time() - seconds
    for path in root.rglob("*.md"):
        os.utime(path, (past, past))


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[Settings, ChunkStore, Path]:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, DOCS)
    age(corpus)
    settings = Settings(home=tmp_path / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    assert index_corpus(settings, store).added == 3
    return settings, store, corpus


def refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("must not be called on this path")


def test_a_noop_run_reads_neither_the_corpus_nor_the_chunks(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store, _ = indexed
    monkeypatch.setattr(corpus_cache.CorpusCache, "load", refuse)
    monkeypatch.setattr(ChunkStore, "manifest", refuse)
    monkeypatch.setattr(indexer, "Chunker", refuse)
    report = index_corpus(settings, store)
    assert (report.documents, report.chunks, report.unchanged, report.added, report.updated) == (3, 6, 3, 0, 0)


def test_a_changed_file_or_store_is_noticed(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = indexed
    write_corpus(corpus, [dict(DOCS[0], en=DOCS[0]["en"] + " Shoppers scan a code.")])  # just written: racy
    assert index_corpus(settings, store).updated == 1
    age(corpus)
    assert index_corpus(settings, store).unchanged == 3
    victim = next(r for r in store.rows() if r.doc_id == "case-invoice")
    store.delete([victim.chunk_id])  # the store changed behind the indexer's back: its version did too
    report = index_corpus(settings, store)
    assert (report.updated, report.unchanged) == (1, 2) and store.count() == 6


def test_a_same_size_edit_within_the_clock_tick_is_not_missed(indexed: tuple[Settings, ChunkStore, Path]) -> None:
    settings, store, corpus = indexed
    path = corpus / "cases" / "case-mango.md"
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Walmart cut", "Walmart CUT"), encoding="utf-8")  # same size...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...and the same modification time: undetectable
    assert index_corpus(settings, store).unchanged == 3  # documented limit (like make and git)
    os.utime(path, None)  # a real edit now: the time moves, and a fresh file is never trusted
    assert index_corpus(settings, store).updated == 1


def test_adding_one_document_parses_only_that_file(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store, corpus = indexed
    parsed: list[str] = []
    real = corpus_cache.load_file

    def counting(path: Path, rel: str) -> Any:
        parsed.append(rel)
        return real(path, rel)

    monkeypatch.setattr(corpus_cache, "load_file", counting)
    extra = dict(DOCS[0], id="case-extra", title_en="Extra case", title_zh="新增案例")
    write_corpus(corpus, [extra])
    report = index_corpus(settings, store)
    assert (report.added, report.unchanged) == (1, 3)
    assert parsed == ["cases/case-extra.md"]
    assert {r.doc_id for r in store.rows()} >= {"case-extra"}


def test_a_stub_from_the_cache_is_read_again_when_it_must_be_chunked(
    indexed: tuple[Settings, ChunkStore, Path],
) -> None:
    settings, store, _ = indexed
    store.reset()  # same files, empty store: every (cached) document must be chunked from its file again
    report = index_corpus(settings, store)
    assert report.added == 3 and store.count() == 6
    assert all(r.text for r in store.rows())


def test_the_sqlite_manifest_is_the_chroma_manifest(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, store, _ = indexed
    fast = store.manifest()
    monkeypatch.setattr(ChunkStore, "_manifest_rows", lambda self: None)
    slow = store.manifest()
    assert fast == slow and len(fast) == 3


def test_strict_fails_on_the_fast_path_too(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, DOCS)
    (corpus / "cases" / "broken.md").write_text("---\nid: x\n---\nno sections", encoding="utf-8")
    age(corpus)
    settings = Settings(home=tmp_path / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    first = index_corpus(settings, store)
    assert first.problems
    again = index_corpus(settings, store)
    assert again.problems == first.problems and again.unchanged == 3
    with pytest.raises(StrictIndexError):
        index_corpus(settings, store, strict=True)


def test_a_large_index_keeps_lean_rows_and_answers_the_same(
    indexed: tuple[Settings, ChunkStore, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above LEAN_MIN_CHUNKS the retriever holds no passage text and memory-maps BM25: same hits, same order."""
    import copilot.index.retriever as retriever_module
    from copilot.index.retriever import Retriever

    _, store, _ = indexed
    queries = ["芒果溯源要多久", "duplicate invoice claims", "personal data deletion off-chain", "发票"]
    full = Retriever(store, cache=False)
    expected = [full.search(q, k=3) for q in queries]
    best = full.best_in_document("case-mango", "trace mangoes", "en")
    monkeypatch.setattr(retriever_module, "LEAN_MIN_CHUNKS", 0)
    for attempt in ("built", "from the cache"):
        lean = Retriever(store)
        assert lean.lean and all(r.text == "" and not r.tokens for r in lean.rows), attempt
        assert [lean.search(q, k=3) for q in queries] == expected, attempt
        assert lean.best_in_document("case-mango", "trace mangoes", "en") == best, attempt
    assert type(lean._bm25.scores["data"]).__name__ == "memmap"
