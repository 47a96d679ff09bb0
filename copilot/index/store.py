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
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from copilot.index.chroma_sqlite import manifest_rows, write_number
from copilot.index.embedding import Embedder, embedder_from_settings
from copilot.index.integrity import StoreProblem, check_store_dir, move_aside, remove_orphan_segments
from copilot.settings import Settings

CHUNKER_VERSION = "1"
UPSERT_BATCH = 1000
READ_PAGE = 5000


REBUILD_HINT = "run `nego index --rebuild` to move it aside and index the corpus again"
PROBE_DISTANCE = 1e-3
"""A stored vector searched for must come back at (about) distance 0 from itself."""


class IndexUnavailableError(RuntimeError):
    """The index cannot be opened or read; the message says why and how to fix it.

    `kind`: "damaged" (`nego index --rebuild` moves it aside and builds a new one),
    "permission", "busy" (another process is writing it) or "other".
    """

    def __init__(self, message: str, kind: str = "other", path: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


def _fatal(exc: BaseException) -> bool:
    """Exceptions never turned into an index error. (Chroma's Rust panics derive from BaseException.)"""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError))


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 240 else text[:239] + "…"


def _problem_error(root: Path, problem: StoreProblem) -> IndexUnavailableError:
    if problem.kind == "permission":
        message = (
            f"the index at {root} cannot be opened: {problem.reason} on {problem.path}; give your user read and "
            f"write access to {root.parent} (e.g. `sudo chown -R $USER {root.parent}`) or set NEGO_HOME to a "
            "folder you own"
        )
    elif problem.kind == "busy":
        message = f"the index at {root} is being written by another process; try again when it has finished"
    else:
        where = problem.path.relative_to(root) if problem.path.is_relative_to(root) and problem.path != root else None
        detail = f"{where}: {problem.reason}" if where else str(problem)
        message = f"the index at {root} is damaged ({detail}); {REBUILD_HINT}"
    return IndexUnavailableError(message, problem.kind, problem.path)


def _shown(location: str) -> str:
    """A store's location for a message: a server URL without the credentials it may carry."""
    url = urlparse(location)
    if url.scheme in ("http", "https") and "@" in url.netloc:
        return url._replace(netloc=url.netloc.rsplit("@", 1)[1]).geturl()
    return location


def _chroma_error(location: str, exc: BaseException, local: bool) -> IndexUnavailableError:
    """One line for an error Chroma raised while opening or reading the store."""
    reason = _reason(exc)
    lowered = reason.lower()
    if not local:
        return IndexUnavailableError(f"cannot use the index on the Chroma server at {_shown(location)}: {reason}")
    if isinstance(exc, PermissionError) or "permission denied" in lowered or "readonly database" in lowered:
        return IndexUnavailableError(
            f"the index at {location} cannot be opened: permission denied ({reason}); give your user read and "
            "write access to it or set NEGO_HOME to a folder you own",
            "permission",
            Path(location),
        )
    if "database is locked" in lowered:
        return IndexUnavailableError(
            f"the index at {location} is locked by another process; try again when it has finished",
            "busy",
            Path(location),
        )
    if "disk is full" in lowered or "no space left" in lowered:
        return IndexUnavailableError(f"the index at {location} cannot be written: the disk is full", "other")
    return IndexUnavailableError(
        f"the index at {location} is damaged ({reason}); {REBUILD_HINT}", "damaged", Path(location)
    )


@dataclass
class ChunkRow:
    chunk_id: str
    doc_id: str
    lang: str
    type: str
    heading: str
    text: str
    tokens: list[str]
    title_zh: str
    title_en: str
    scenarios: list[str]
    regions: list[str]
    sources: list[dict[str, str]]
    path: str
    doc_hash: str
    doc_chunks: int

    def metadata(self) -> dict[str, str | int | float | bool]:
        meta: dict[str, str | int | float | bool] = {
            "doc_id": self.doc_id,
            "lang": self.lang,
            "type": self.type,
            "heading": self.heading,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "scenarios": ",".join(self.scenarios),
            "regions": ",".join(self.regions),
            "sources": json.dumps(self.sources, ensure_ascii=False),
            "tokens": " ".join(self.tokens),
            "path": self.path,
            "doc_hash": self.doc_hash,
            "doc_chunks": self.doc_chunks,
        }
        for scenario in self.scenarios:
            meta[f"sc__{scenario}"] = True
        for region in self.regions:
            meta[f"rg__{region}"] = True
        return meta

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> ChunkRow:
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta["doc_id"]),
            lang=str(meta["lang"]),
            type=str(meta["type"]),
            heading=str(meta.get("heading", "")),
            text=text,
            tokens=str(meta.get("tokens", "")).split(),
            title_zh=str(meta.get("title_zh", "")),
            title_en=str(meta.get("title_en", "")),
            scenarios=[s for s in str(meta.get("scenarios", "")).split(",") if s],
            regions=[r for r in str(meta.get("regions", "")).split(",") if r],
            sources=json.loads(str(meta.get("sources", "[]"))),
            path=str(meta.get("path", "")),
            doc_hash=str(meta.get("doc_hash", "")),
            doc_chunks=int(meta.get("doc_chunks", 0)),
        )


def lean(row: ChunkRow) -> ChunkRow:
    """`row` with only what ranking and filtering need: text, tokens, titles, sources and path dropped."""
    return ChunkRow(
        row.chunk_id, row.doc_id, row.lang, row.type, "", "", [], "", "", row.scenarios, row.regions, [], "", "", 0
    )


@dataclass
class DocState:
    """What the store holds for one document."""

    hashes: set[str] = field(default_factory=set)
    chunk_ids: set[str] = field(default_factory=set)
    expected_chunks: int = 0
    paths: set[str] = field(default_factory=set)
    """Corpus files (relative paths) the stored chunks came from."""

    def is_complete(self, doc_hash: str) -> bool:
        return self.hashes == {doc_hash} and len(self.chunk_ids) == self.expected_chunks


SERVER_CONNECT_TIMEOUT_S = 5.0


def _server_client(url_text: str, chroma_settings: Any) -> Any:
    """A chromadb.HttpClient for `chroma_url`, or one line saying what is wrong with the URL or the server.

    The server is first reached with a plain TCP connection and a timeout: chromadb's HTTP client
    has none, so an address that drops packets would otherwise hang `nego ui` at start.
    """
    import socket

    import chromadb

    url = urlparse(url_text.strip())
    try:
        port = url.port or (443 if url.scheme == "https" else 8000)
    except ValueError:
        port = 0
    if url.scheme not in ("http", "https") or not url.hostname or not port or url.path.strip("/"):
        shown = repr(url_text) if "@" not in url_text else "(a URL with credentials, not shown)"
        raise IndexUnavailableError(
            f"NEGO_CHROMA_URL is not a Chroma server URL: {shown} (expected http://HOST:PORT or https://HOST:PORT)"
        )
    where = f"{url.scheme}://{url.hostname}:{port}"  # never echoes credentials a URL might carry
    hint = (
        f"start it (`chroma run --path DIR --host {url.hostname} --port {port}`), fix NEGO_CHROMA_URL, "
        "or unset it to use the embedded index"
    )
    try:
        socket.create_connection((url.hostname, port), timeout=SERVER_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise IndexUnavailableError(
            f"cannot reach the Chroma server at {where} (NEGO_CHROMA_URL): {reason}; {hint}"
        ) from exc
    try:
        return chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https", settings=chroma_settings)
    except Exception as exc:  # chromadb raises ValueError or its own errors for a server it cannot use
        reason = str(exc) or "it did not answer as a Chroma server"
        raise IndexUnavailableError(
            f"the Chroma server at {where} (NEGO_CHROMA_URL) cannot be used: {reason}; {hint}"
        ) from exc


def _forget_system(path: str) -> None:
    """Drop the System Chroma cached for `path` when opening it failed, so the path can be opened again.

    chromadb keeps one System per directory for the whole process, also one whose start
    failed (a corrupt chroma.sqlite3); every later PersistentClient on that path would get
    the broken one. A System other clients still use is left alone.
    """
    with contextlib.suppress(Exception):
        from chromadb.api.shared_system_client import SharedSystemClient

        if SharedSystemClient._identifier_to_refcount.get(path, 0) <= 0:
            system = SharedSystemClient._identifier_to_system.pop(path, None)
            if system is not None:
                system.stop()


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        return _server_client(settings.chroma_url, chroma_settings)
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


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
            if _fatal(exc):
                raise
            if local:
                with contextlib.suppress(Exception):
                    client.close()  # release Chroma's cached system for this path, so it can be reopened
            if isinstance(exc, IndexUnavailableError):
                raise
            raise _chroma_error(location, exc, local) from exc

    @property
    def where(self) -> str:
        """The location to show a user: the index directory, or the server URL without credentials."""
        return _shown(self.location)

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
            raise _problem_error(root, problem) from problem
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
                raise _problem_error(Path(location), problem) from problem
        try:
            client = _client(settings)
        except IndexUnavailableError:
            raise
        except BaseException as exc:
            if _fatal(exc):
                raise
            if local:
                _forget_system(location)
            raise _chroma_error(location, exc, local) from exc
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
            if _fatal(exc) or isinstance(exc, IndexUnavailableError):
                raise
            raise _chroma_error(self.location, exc, self.local) from exc

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
