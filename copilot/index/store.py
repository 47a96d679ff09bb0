"""The chunk store: one Chroma collection holds vectors, passages and metadata.

Everything the index needs lives in the collection (embedded PersistentClient
under NEGO_HOME/index/chroma, or a Chroma server when `chroma_url` is set), so
several app workers against one Chroma server see the same index:

- the passage text (document) and its vector;
- metadata: doc id, language, type, titles, sources, scenario/region flags for
  filtered dense queries, the BM25 tokens (so the sparse index is rebuilt
  without re-segmenting), and the document's content hash plus its chunk count,
  from which the indexer derives what changed, also after a crash.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from copilot.index.embedding import Embedder, embedder_from_settings
from copilot.settings import Settings

CHUNKER_VERSION = "1"
UPSERT_BATCH = 1000
READ_PAGE = 5000


class IndexUnavailableError(RuntimeError):
    """The index cannot be opened; the message says why and how to rebuild."""


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


@dataclass
class DocState:
    """What the store holds for one document."""

    hashes: set[str] = field(default_factory=set)
    chunk_ids: set[str] = field(default_factory=set)
    expected_chunks: int = 0

    def is_complete(self, doc_hash: str) -> bool:
        return self.hashes == {doc_hash} and len(self.chunk_ids) == self.expected_chunks


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise IndexUnavailableError(f"NEGO_CHROMA_URL is not a URL: {settings.chroma_url!r}")
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChunkStore:
    """Chunk rows and their vectors in one Chroma collection."""

    def __init__(self, client: Any, embedder: Embedder, location: str) -> None:
        self.client = client
        self.embedder = embedder
        self.location = location
        self.collection_name = "nego-" + embedder.name()
        try:
            self.collection = client.get_or_create_collection(
                name=self.collection_name,
                embedding_function=embedder,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # chromadb raises many types for a broken store
            raise IndexUnavailableError(
                f"cannot open the index at {location}: {exc}. Rebuild it with `nego index --rebuild`."
            ) from exc

    @classmethod
    def open(cls, settings: Settings) -> ChunkStore:
        embedder = embedder_from_settings(
            settings.embedding,
            settings.embedding_threads,
            settings.embedding_model,
            settings.embedding_base_url or settings.base_url,
            settings.api_key.get_secret_value() if settings.api_key else None,
        )
        location = settings.chroma_url or str(settings.index_dir / "chroma")
        try:
            client = _client(settings)
        except IndexUnavailableError:
            raise
        except Exception as exc:
            raise IndexUnavailableError(
                f"cannot open the index at {location}: {exc}. Rebuild it with `nego index --rebuild`."
            ) from exc
        return cls(client, embedder, location)

    # -- reading -----------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.collection.count())

    def _get_all(self, include: list[str]) -> dict[str, list[Any]]:
        """Every stored passage, read in pages: one unbounded get() fails on large collections
        (SQLite's limit on query variables, seen at 100k passages)."""
        out: dict[str, list[Any]] = {"ids": [], **{key: [] for key in include}}
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=READ_PAGE, offset=offset)
            out["ids"].extend(got["ids"])
            for key in include:
                out[key].extend(got[key] or [])
            if len(got["ids"]) < READ_PAGE:
                return out
            offset += READ_PAGE

    def rows(self) -> list[ChunkRow]:
        got = self._get_all(["documents", "metadatas"])
        return [
            ChunkRow.from_chroma(cid, text or "", dict(meta or {}))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def manifest(self) -> dict[str, DocState]:
        got = self._get_all(["metadatas"])
        states: dict[str, DocState] = {}
        for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
            meta = meta or {}
            state = states.setdefault(str(meta.get("doc_id", "")), DocState())
            state.hashes.add(str(meta.get("doc_hash", "")))
            state.chunk_ids.add(cid)
            state.expected_chunks = int(meta.get("doc_chunks", 0))
        return states

    def query_dense(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """The `n` nearest passages (cosine similarity), `n` at most the number of stored passages."""
        if n < 1:
            return []
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


def state_file(settings: Settings) -> Path:
    return settings.index_dir / "state.json"
