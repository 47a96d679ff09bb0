"""Incremental indexing: only changed documents are chunked and embedded again.

Each chunk carries its document's key (content hash + chunker and embedder
fingerprint) and the document's chunk count. A document is unchanged when the
store holds exactly its chunk count of chunks, all with the current key.
Writes are ordered so that an interrupted run (even `kill -9`) leaves a state
the next run completes without duplicates: new chunks are upserted under
deterministic ids first, stale ones deleted after, and any document left half
written fails the completeness check and is redone. Chroma's own files are the
one thing this ordering cannot protect: a kill while Chroma persists its vector
index leaves those files torn; the store detects that when it is opened and
`nego index` moves it aside and indexes anew (copilot/index/integrity.py).
tests/test_crash_recovery.py kills real runs at each of these points.

Nothing changed, nothing done: after a complete run the index state records the
corpus scan's digest (every file's path, size and modification time), the chunking
fingerprint and the store's version (its write number); a run that finds all three as
recorded returns at once, without reading the corpus or the store's chunks. Otherwise
only changed files are parsed (copilot/index/corpus_cache.py), the store's manifest
is read in one query (copilot/index/chroma_sqlite.py), and the tokenizer is loaded only
when something has to be chunked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from copilot.corpus.loader import LoadResult
from copilot.corpus.models import Document
from copilot.corpus.references import check_references
from copilot.index.corpus_cache import CACHE_FILE, CorpusCache, CorpusScan
from copilot.index.models import IndexReport, IndexStatus
from copilot.index.store import CHUNKER_VERSION, ChunkRow, ChunkStore, DocState, state_file
from copilot.settings import Settings
from copilot.text.chunking import Chunker
from copilot.text.segment import compact_loaded, tokenize

ProgressFn = Callable[[int, int], None]
EMBED_BATCH_CHUNKS = 256
BULK_DOCUMENTS = 20
"""Above this many documents to chunk, jieba's full dictionary is loaded (faster look-ups, ~64 MB): the
compact one (copilot.text.compact_dict) segments identically, and is what a serving process keeps; a few
documents added while serving are segmented with it."""


class StrictIndexError(RuntimeError):
    """`--strict` was asked and the corpus has problems; nothing was indexed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} corpus problem(s); nothing indexed")
        self.problems = problems


def _fingerprint(settings: Settings, store: ChunkStore) -> str:
    """What, besides a document's text, decides its chunks and vectors: a change re-indexes everything."""
    return (
        f"chunker={CHUNKER_VERSION};max={settings.chunk_max_tokens};"
        f"enc={settings.tokenizer_encoding};emb={store.embedder.name()}"
    )


def doc_key(doc: Document, fingerprint: str) -> str:
    return hashlib.sha256(f"{doc.content_hash}|{fingerprint}".encode()).hexdigest()[:32]


def embedding_text(row: ChunkRow) -> str:
    """What is embedded and searched: the passage under its document title."""
    title = row.title_zh if row.lang == "zh" else row.title_en
    return f"{title}\n{row.text}"


def full_dictionary(documents: int) -> bool:
    """Whether chunking `documents` documents segments with jieba's own dictionary (see BULK_DOCUMENTS).

    jieba's loads from its cache in ~0.7 s, the compact one is built in ~2.5 s: a process that has not
    loaded the compact one yet (`nego index`) uses jieba's; a serving process adding a document keeps its own.
    """
    return documents > BULK_DOCUMENTS or not compact_loaded()


def chunk_document(doc: Document, chunker: Chunker, key: str, *, bulk: bool = False) -> list[ChunkRow]:
    """The document's passages; `bulk`: one of many documents indexed in this run (see copilot.text.segment)."""
    pieces = [(lang, piece) for lang in ("zh", "en") for piece in chunker.chunk(doc.sections.get(lang, ""))]
    rows = []
    sources = [s.model_dump() for s in doc.meta.sources]
    for n, (lang, piece) in enumerate(pieces):
        title = doc.meta.title_zh if lang == "zh" else doc.meta.title_en
        rows.append(
            ChunkRow(
                chunk_id=f"{doc.id}:{lang}:{n:03d}",
                doc_id=doc.id,
                lang=lang,
                type=doc.type,
                heading=piece.heading,
                text=piece.text,
                tokens=tokenize(f"{title} {piece.text}", bulk=bulk),
                title_zh=doc.meta.title_zh,
                title_en=doc.meta.title_en,
                scenarios=list(doc.meta.scenarios),
                regions=list(doc.meta.regions),
                sources=sources,
                path=doc.path,
                doc_hash=key,
                doc_chunks=len(pieces),
            )
        )
    return rows


def index_corpus(
    settings: Settings,
    store: ChunkStore,
    corpus_dir: Path | None = None,
    *,
    rebuild: bool = False,
    strict: bool = False,
    progress: ProgressFn | None = None,
) -> IndexReport:
    """Bring the store in line with the corpus; return what was done."""
    started = time.perf_counter()
    root = corpus_dir or settings.corpus_path
    scan = CorpusScan.of(root)
    fingerprint = _fingerprint(settings, store)
    if not rebuild:
        unchanged = _unchanged_report(settings, store, scan, fingerprint)
        if unchanged is not None:
            if strict and unchanged.problems:
                raise StrictIndexError(unchanged.problems)
            unchanged.seconds = time.perf_counter() - started
            return unchanged
    cache = CorpusCache(settings.index_dir / CACHE_FILE)
    loaded = cache.load(scan)
    problems = [str(p) for p in sorted(loaded.problems + check_references(loaded.documents))]
    if strict and problems:
        raise StrictIndexError(problems)
    if rebuild:
        store.reset()

    chunker: Chunker | None = None  # loading the tokenizer costs ~0.5 s: only when something is chunked
    manifest = store.manifest()
    held = _held_documents(loaded, manifest)
    report = IndexReport(documents=len(loaded.documents), problems=problems + list(held.values()))

    todo: list[tuple[Document, str, bool]] = []  # (doc, key, existed before)
    for doc in loaded.documents:
        if doc.id in held:
            continue
        key = doc_key(doc, fingerprint)
        state = manifest.get(doc.id)
        if state is not None and state.is_complete(key):
            report.unchanged += 1
        else:
            todo.append((doc, key, state is not None))

    current_ids = {d.id for d in loaded.documents}
    removed_docs = [doc_id for doc_id in manifest if doc_id not in current_ids and doc_id not in held]
    done = 0
    total = len(todo)
    if progress:
        progress(0, total)

    batch: list[tuple[Document, str, bool, list[ChunkRow]]] = []

    def write(batch: list[tuple[Document, str, bool, list[ChunkRow]]]) -> None:
        rows = [row for *_, doc_rows in batch for row in doc_rows]
        vectors = store.embedder.encode([embedding_text(r) for r in rows])
        store.upsert(rows, vectors)
        stale: set[str] = set()
        for doc, _key, _existed, doc_rows in batch:
            previous = manifest.get(doc.id)
            if previous is not None:
                stale |= previous.chunk_ids - {r.chunk_id for r in doc_rows}
        store.delete(stale)

    pending_chunks = 0
    bulk = full_dictionary(len(todo))
    for doc, key, existed in todo:
        chunker = chunker or Chunker(settings.chunk_max_tokens, settings.tokenizer_encoding)
        rows = chunk_document(cache.full(doc, root), chunker, key, bulk=bulk)
        batch.append((doc, key, existed, rows))
        pending_chunks += len(rows)
        if pending_chunks >= EMBED_BATCH_CHUNKS:
            write(batch)
            done += len(batch)
            if progress:
                progress(done, total)
            batch, pending_chunks = [], 0
    if batch:
        write(batch)
        done += len(batch)
        if progress:
            progress(done, total)

    for _doc, _key, existed in todo:
        if existed:
            report.updated += 1
        else:
            report.added += 1
    stale_ids = {cid for doc_id in removed_docs for cid in manifest[doc_id].chunk_ids}
    store.delete(stale_ids)
    report.removed = len(removed_docs)
    report.chunks = store.count()
    report.seconds = time.perf_counter() - started
    _write_state(settings, report, scan, fingerprint, store.version(), rebuild)
    return report


def _unchanged_report(settings: Settings, store: ChunkStore, scan: CorpusScan, fingerprint: str) -> IndexReport | None:
    """The last complete run's report when the corpus files, the settings and the store are as it left them."""
    try:
        state = json.loads(state_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    saved = state.get("corpus") if isinstance(state, dict) else None
    if not isinstance(saved, dict) or not scan.settled or saved.get("fingerprint") != fingerprint:
        return None
    if saved.get("scan") != scan.digest():
        return None
    version = store.version()
    if version is None or saved.get("store") != version:
        return None
    try:
        return IndexReport.model_validate(saved["report"])
    except (KeyError, ValueError):
        return None


def _held_documents(loaded: LoadResult, manifest: dict[str, DocState]) -> dict[str, str]:
    """Stored documents a bad file must not remove or replace: doc id -> why it is kept.

    A document whose file now has a problem (invalid YAML, a missing section…)
    keeps its last indexed version until the file is fixed or deleted. An id that
    a second file also declares keeps the version already indexed, whichever file
    sorts first, so a stray copy never overwrites an indexed document.
    """
    bad_paths = {p.path for p in loaded.problems}
    current = loaded.by_id()
    held: dict[str, str] = {}
    for doc_id, state in manifest.items():
        doc = current.get(doc_id)
        if doc is None:
            broken = sorted(state.paths & bad_paths)
            if broken:
                held[doc_id] = f"{broken[0]}:1: index: kept the indexed version of '{doc_id}' until this file is fixed"
            continue
        if doc.path in state.paths:
            continue
        contested = sorted(state.paths & set(loaded.claimants.get(doc_id, [])))
        broken = sorted(state.paths & bad_paths)
        if contested:
            held[doc_id] = (
                f"{doc.path}:{doc.line}: index: '{doc_id}' is already indexed from {contested[0]}; "
                "the index keeps that version until the duplicate id is resolved"
            )
        elif broken:
            held[doc_id] = (
                f"{doc.path}:{doc.line}: index: '{doc_id}' is indexed from {broken[0]}, which has problems; "
                "the index keeps that version until that file is fixed or deleted"
            )
    return held


def pending_changes(settings: Settings, store: ChunkStore, documents: list[Document]) -> int:
    """How many documents `index_corpus` would add, update or remove (0: the index is up to date)."""
    fingerprint = _fingerprint(settings, store)
    manifest = store.manifest()
    current = {d.id for d in documents}
    stale = sum(1 for d in documents if not (d.id in manifest and manifest[d.id].is_complete(doc_key(d, fingerprint))))
    return stale + sum(1 for doc_id in manifest if doc_id not in current)


def _write_state(
    settings: Settings, report: IndexReport, scan: CorpusScan, fingerprint: str, version: str | None, rebuilt: bool
) -> None:
    """Record the run: when the index last changed, and what a later run compares to skip itself."""
    path = state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    previous: dict[str, object] = {}
    with contextlib.suppress(OSError, ValueError):
        previous = dict(json.loads(path.read_text(encoding="utf-8")))
    changed = report.added or report.updated or report.removed or rebuilt or "last_update" not in previous
    state = {
        "last_update": dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if changed else previous["last_update"],
        "documents": report.documents,
        "chunks": report.chunks,
        "corpus": {
            "scan": scan.digest() if scan.settled else None,
            "fingerprint": fingerprint,
            "store": version,
            # what a run that finds nothing to do reports: everything indexed now is unchanged then
            "report": report.model_dump(include={"documents", "chunks", "problems"})
            | {"unchanged": report.unchanged + report.added + report.updated},
        },
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    tmp.replace(path)


def index_status(settings: Settings, store: ChunkStore) -> IndexStatus:
    manifest = store.manifest()
    last_update = None
    path = state_file(settings)
    if path.is_file():
        try:
            last_update = json.loads(path.read_text(encoding="utf-8")).get("last_update")
        except (OSError, ValueError):
            last_update = None
    return IndexStatus(
        documents=len([d for d in manifest if d]),
        chunks=store.count(),
        last_update=last_update,
        embedding=store.embedder.name(),
        location=store.where,
    )
