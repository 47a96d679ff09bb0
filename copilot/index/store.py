"""The chunk store: one Chroma collection holds vectors, passages and metadata.

Everything the index needs lives in the collection (embedded PersistentClient
under NEGO_HOME/index/chroma, or a Chroma server when `chroma_url` is set), so
several app workers against one Chroma server see the same index:

- the passage text (document) and its vector;
- metadata: doc id, language, type, titles, sources, scenario/region flags for
  filtered dense queries, the BM25 tokens (so the sparse index is rebuilt
  without re-segmenting), and the document's content hash plus its chunk count,
  from which the indexer derives what changed, also after a crash.

An embedded store is checked before Chroma reads it (copilot/index/integrity.py:
a store left damaged by a killed writer would otherwise crash the process in
Chroma's native code) and probed once opened (a stored vector must be found by
search). Whatever fails is one IndexUnavailableError naming the path and the
fix; `open(..., recover=True)` (what `nego index` uses) moves a damaged store
aside and starts a new one.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copilot.index.chroma_client import chroma_client, forget_system
from copilot.index.chroma_sqlite import manifest_rows, write_number
from copilot.index.embedding import Embedder, embedder_from_settings
from copilot.index.integrity import StoreProblem, check_store_dir, move_aside, remove_orphan_segments
from copilot.index.rows import ChunkRow, DocState, lean
from copilot.index.store_errors import (
    REBUILD_HINT,
    IndexUnavailableError,
    chroma_error,
    is_fatal,
    problem_error,
    shown,
)
from copilot.settings import Settings

__all__ = ["CHUNKER_VERSION", "ChunkRow", "ChunkStore", "DocState", "IndexUnavailableError", "lean", "state_file"]

CHUNKER_VERSION = "1"
UPSERT_BATCH = 1000
READ_PAGE = 5000
PROBE_DISTANCE = 1e-3
"""A stored vector searched for must come back at (about) distance 0 from itself."""


class ChunkStore:
    """Chunk rows and their vectors in one Chroma collection."""

    def __init__(self, client: Any, embedder: Embedder, location: str, local: bool = False) -> None:
        """`local`: an embedded store (a directory at `location`), probed once its collection is open."""
        self.client = client
        self.embedder = embedder
        self.location = location
        self.local = local
        self.collection_name = "nego-" + embedder.name()
        self.moved_aside: Path | None = None
        """Where `open(..., recover=True)` moved a damaged store (None: nothing was moved)."""
        self.damage = ""
        """What was wrong with the store that was moved aside."""
        try:
            self.collection = client.get_or_create_collection(
                name=self.collection_name,
                embedding_function=embedder,
                configuration={"hnsw": {"space": "cosine"}},
            )
            if local:
                self._probe()
        except BaseException as exc:  # chromadb raises many types (and Rust panics) for a broken store
            if is_fatal(exc):
                raise
            if local:
                with contextlib.suppress(Exception):
                    client.close()  # release Chroma's cached system for this path, so it can be reopened
            if isinstance(exc, IndexUnavailableError):
                raise
            raise chroma_error(location, exc, local) from exc

    @property
    def where(self) -> str:
        """The location to show a user: the index directory, or the server URL without credentials."""
        return shown(self.location)

    @classmethod
    def open(cls, settings: Settings, *, recover: bool = False) -> ChunkStore:
        """Open the configured store, or raise IndexUnavailableError with one line naming the path and the fix.

        `recover` (`nego index`): an embedded store found damaged is moved aside (renamed
        `chroma.broken-TIMESTAMP`, see `moved_aside`) and a new, empty one is opened to be indexed.
        """
        embedder = embedder_from_settings(
            settings.embedding,
            settings.embedding_threads,
            settings.embedding_model,
            settings.embedding_base_url or settings.base_url,
            settings.api_key.get_secret_value() if settings.api_key else None,
        )
        try:
            return cls._open(settings, embedder)
        except IndexUnavailableError as exc:
            if not (recover and exc.kind == "damaged" and not settings.chroma_url):
                raise
            damage = exc
        root = settings.index_dir / "chroma"
        broken = settings.index_dir if damage.path == settings.index_dir else root
        try:
            moved = move_aside(broken)
        except StoreProblem as problem:
            raise problem_error(root, problem) from problem
        store = cls._open(settings, embedder)
        store.moved_aside = moved
        store.damage = str(damage).removesuffix(f"; {REBUILD_HINT}")
        return store

    @classmethod
    def _open(cls, settings: Settings, embedder: Embedder) -> ChunkStore:
        local = not settings.chroma_url
        location = settings.chroma_url or str(settings.index_dir / "chroma")
        if local:
            try:
                check_store_dir(Path(location))
            except StoreProblem as problem:
                raise problem_error(Path(location), problem) from problem
        try:
            client = chroma_client(settings)
        except IndexUnavailableError:
            raise
        except BaseException as exc:
            if is_fatal(exc):
                raise
            if local:
                forget_system(location)
            raise chroma_error(location, exc, local) from exc
        return cls(client, embedder, location, local=local)

    def _probe(self) -> None:
        """Find a stored vector by searching for it (the first and the last stored passage).

        A store whose vector segment is missing or does not match its metadata fails here,
        when it is opened, instead of in the middle of a search or a chat reply.
        """
        count = int(self.collection.count())
        for offset in sorted({0, count - 1}) if count else []:
            got = self.collection.get(limit=1, offset=offset, include=["embeddings"])
            embeddings = got.get("embeddings")
            if not got["ids"] or embeddings is None or len(embeddings) == 0:
                raise IndexUnavailableError(
                    f"the index at {self.location} is damaged (passage {offset} has no vector); {REBUILD_HINT}",
                    "damaged",
                    Path(self.location),
                )
            found = self.collection.query(
                query_embeddings=[np.asarray(embeddings[0], dtype=np.float32).tolist()],
                n_results=1,
                include=["distances"],
            )
            distances = found.get("distances") or [[]]
            if not found["ids"][0] or not distances[0] or float(distances[0][0]) > PROBE_DISTANCE:
                raise IndexUnavailableError(
                    f"the index at {self.location} is damaged (the vector of {got['ids'][0]} is not found by "
                    f"search); {REBUILD_HINT}",
                    "damaged",
                    Path(self.location),
                )

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Chroma's errors while reading an open store, as one IndexUnavailableError line."""
        try:
            yield
        except BaseException as exc:
            if is_fatal(exc) or isinstance(exc, IndexUnavailableError):
                raise
            raise chroma_error(self.location, exc, self.local) from exc

    # -- reading -----------------------------------------------------------------------------------
    def count(self) -> int:
        with self._reading():
            return int(self.collection.count())

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """Every stored passage, read in pages: one unbounded get() fails on large collections
        (SQLite's limit on query variables, seen at 100k passages)."""
        offset = 0
        while True:
            with self._reading():
                got = self.collection.get(include=include, limit=READ_PAGE, offset=offset)
            yield got
            if len(got["ids"]) < READ_PAGE:
                return
            offset += READ_PAGE

    def _get_all(self, include: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"ids": [], **{key: [] for key in include}}
        for got in self._pages(include):
            out["ids"].extend(got["ids"])
            for key in include:
                out[key].extend(got[key] or [])
        return out

    def lean_rows(self) -> Iterator[tuple[ChunkRow, list[str]]]:
        """Every passage as a lean row (ids, language, type, scenarios, regions: no text, titles or sources)
        with its BM25 tokens, a page at a time: what a large index keeps in memory (copilot/index/retriever.py)."""
        for got in self._pages(["metadatas"]):
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                row = ChunkRow.from_chroma(cid, "", dict(meta or {}))
                tokens = [sys.intern(t) for t in row.tokens]
                yield lean(row), tokens

    def passages(self, chunk_ids: Sequence[str], vectors: bool = True) -> dict[str, tuple[ChunkRow, np.ndarray | None]]:
        """Full rows (and stored vectors, unless `vectors` is False) of the given passages, in one round trip."""
        if not chunk_ids:
            return {}
        include = ["documents", "metadatas", "embeddings"] if vectors else ["documents", "metadatas"]
        with self._reading():
            got = self.collection.get(ids=list(chunk_ids), include=include)
        stored = got.get("embeddings") if vectors else None
        out: dict[str, tuple[ChunkRow, np.ndarray | None]] = {}
        for n, (cid, text, meta) in enumerate(zip(got["ids"], got["documents"], got["metadatas"], strict=True)):
            vector = np.asarray(stored[n], dtype=np.float32) if stored is not None and len(stored) > n else None
            out[cid] = (ChunkRow.from_chroma(cid, text or "", dict(meta or {})), vector)
        return out

    def rows(self) -> list[ChunkRow]:
        got = self._get_all(["documents", "metadatas"])
        return [
            ChunkRow.from_chroma(cid, text or "", dict(meta or {}))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def manifest(self) -> dict[str, DocState]:
        """What the store holds per document: its content hashes, chunk ids, expected chunk count and files.

        An embedded store answers from Chroma's SQLite file in one query over the four fields
        needed (at 100k chunks, reading every chunk's metadata through Chroma took ~10 s); a Chroma
        server, or a file whose answer disagrees with Chroma's own count, is read through Chroma.
        """
        rows = self._manifest_rows()
        if rows is None:
            got = self._get_all(["metadatas"])
            rows = [(cid, dict(meta or {})) for cid, meta in zip(got["ids"], got["metadatas"], strict=True)]
        states: dict[str, DocState] = {}
        for cid, meta in rows:
            state = states.setdefault(str(meta.get("doc_id", "")), DocState())
            state.hashes.add(str(meta.get("doc_hash", "")))
            state.chunk_ids.add(cid)
            state.expected_chunks = int(meta.get("doc_chunks", 0))
            state.paths.add(str(meta.get("path", "")))
        return states

    def _sqlite(self) -> Path | None:
        path = Path(self.location) / "chroma.sqlite3"
        return path if self.local and path.is_file() else None

    def _manifest_rows(self) -> list[tuple[str, dict[str, Any]]] | None:
        """(chunk id, {doc_id, doc_hash, doc_chunks, path}) for every chunk from the SQLite file; None: unknown."""
        sqlite_path = self._sqlite()
        rows = manifest_rows(sqlite_path, str(self.collection.id)) if sqlite_path is not None else None
        return list(rows.items()) if rows is not None and len(rows) == self.count() else None

    def version(self) -> str | None:
        """A value that changes whenever the stored chunks change (collection id, count, Chroma's last write
        number); None for a Chroma server or when it cannot be read (then nothing is skipped on its strength)."""
        sqlite_path = self._sqlite()
        seq = write_number(sqlite_path, str(self.collection.id)) if sqlite_path is not None else None
        return None if seq is None else f"{self.collection.id}:{self.count()}:{seq}"

    def query_dense(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """The `n` nearest passages (cosine similarity), `n` at most the number of stored passages."""
        if n < 1:
            return []
        with self._reading():
            result = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"]
            )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [0.0] * len(ids)
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances, strict=True)]

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given passages, in one round trip."""
        if not chunk_ids:
            return {}
        with self._reading():
            got = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    # -- writing -----------------------------------------------------------------------------------
    def upsert(self, rows: Sequence[ChunkRow], vectors: np.ndarray) -> None:
        for start in range(0, len(rows), UPSERT_BATCH):
            batch = rows[start : start + UPSERT_BATCH]
            self.collection.upsert(
                ids=[r.chunk_id for r in batch],
                documents=[r.text for r in batch],
                metadatas=[r.metadata() for r in batch],
                embeddings=[v.tolist() for v in vectors[start : start + UPSERT_BATCH]],
            )

    def delete(self, chunk_ids: Iterable[str]) -> None:
        ids = sorted(set(chunk_ids))
        for start in range(0, len(ids), UPSERT_BATCH):
            self.collection.delete(ids=ids[start : start + UPSERT_BATCH])

    def reset(self) -> None:
        """Drop the collection and start empty (`nego index --rebuild`)."""
        with contextlib.suppress(Exception):  # absent collection: nothing to drop
            self.client.delete_collection(self.collection_name)
        self.collection = self.client.get_or_create_collection(
            name=self.collection_name, embedding_function=self.embedder, configuration={"hnsw": {"space": "cosine"}}
        )
        if self.local:  # Chroma leaves the dropped collection's vector files behind: as large as the index
            remove_orphan_segments(Path(self.location))


def state_file(settings: Settings) -> Path:
    return settings.index_dir / "state.json"
