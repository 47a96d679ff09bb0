"""Hybrid retrieval: BM25 over jieba/English tokens fused with dense vectors.

Sparse and dense candidates are fused with reciprocal rank fusion; metadata
filters apply to both; chunks of one document are collapsed (by default one
hit per document, preferring a passage in the query's language), so a
Chinese/English pair of the same paragraph never fills two result slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from copilot.corpus.models import Source
from copilot.index.indexer import embedding_text
from copilot.index.models import Hit, SearchFilters
from copilot.index.store import ChunkRow, ChunkStore
from copilot.text.lang import detect_language
from copilot.text.segment import tokenize

Mode = Literal["hybrid", "bm25", "dense"]
RRF_K = 60
MAX_QUERY_CHARS = 4000


class QueryError(ValueError):
    """The query cannot be searched (empty, or a filter value that does not exist)."""


@dataclass(frozen=True)
class _Scored:
    index: int
    score: float


class Retriever:
    def __init__(self, store: ChunkStore, *, dense_weight: float = 1.0, sparse_weight: float = 1.0) -> None:
        self.store = store
        self.dense_weight = dense_weight
        self.sparse_weight = sparse_weight
        self.rows: list[ChunkRow] = []
        self._last_components: tuple[dict[int, float], dict[int, float]] = ({}, {})
        self.refresh()

    def refresh(self) -> None:
        """Reload chunks from the store (after indexing) and rebuild the sparse index."""
        import bm25s

        rows = sorted(self.store.rows(), key=lambda r: r.chunk_id)
        self.rows = rows
        self._position = {r.chunk_id: i for i, r in enumerate(rows)}
        self._bm25: Any = None
        if rows:
            bm25 = bm25s.BM25()
            bm25.index([r.tokens or ["\u2205"] for r in rows], show_progress=False)
            self._bm25 = bm25
        self._field_values: dict[str, np.ndarray] = {
            "type": np.array([r.type for r in rows], dtype=object),
            "lang": np.array([r.lang for r in rows], dtype=object),
        }
        self._scenarios = [set(r.scenarios) for r in rows]
        self._regions = [set(r.regions) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    # -- filters -----------------------------------------------------------------------------------
    def _mask(self, filters: SearchFilters, doc_ids: set[str] | None = None) -> np.ndarray:
        mask = np.ones(len(self.rows), dtype=bool)
        if doc_ids is not None:
            mask &= np.fromiter((r.doc_id in doc_ids for r in self.rows), dtype=bool, count=len(self.rows))
        if filters.type:
            mask &= self._field_values["type"] == filters.type
        if filters.language:
            mask &= self._field_values["lang"] == filters.language
        if filters.scenario:
            mask &= np.fromiter((filters.scenario in s for s in self._scenarios), dtype=bool, count=len(self.rows))
        if filters.region:
            mask &= np.fromiter((filters.region in r for r in self._regions), dtype=bool, count=len(self.rows))
        return mask

    @staticmethod
    def _where(filters: SearchFilters, doc_ids: set[str] | None = None) -> dict[str, Any] | None:
        conditions: list[dict[str, Any]] = []
        if doc_ids is not None:
            conditions.append({"doc_id": {"$in": sorted(doc_ids)}})
        if filters.type:
            conditions.append({"type": filters.type})
        if filters.language:
            conditions.append({"lang": filters.language})
        if filters.scenario:
            conditions.append({f"sc__{filters.scenario}": True})
        if filters.region:
            conditions.append({f"rg__{filters.region}": True})
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}

    # -- rankers -----------------------------------------------------------------------------------
    def _sparse(self, query: str, mask: np.ndarray, n: int) -> list[_Scored]:
        tokens = tokenize(query)
        if not tokens or self._bm25 is None:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        scores = np.where(mask, scores, 0.0)
        positive = int(np.count_nonzero(scores > 0))
        if positive == 0:
            return []
        n = min(n, positive)
        top = np.argpartition(-scores, n - 1)[:n]
        order = sorted(top.tolist(), key=lambda i: (-scores[i], i))
        return [_Scored(i, float(scores[i])) for i in order]

    def _dense(self, query: str, filters: SearchFilters, n: int, doc_ids: set[str] | None) -> list[_Scored]:
        vector = self.store.embedder.encode([query])[0]
        results = self.store.query_dense(vector, n, self._where(filters, doc_ids))
        out = []
        for chunk_id, similarity in results:
            position = self._position.get(chunk_id)
            if position is not None:  # ignore vectors of chunks this snapshot does not know
                out.append(_Scored(position, similarity))
        return out

    # -- search ------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        *,
        mode: Mode = "hybrid",
        per_doc: int = 1,
        doc_ids: set[str] | None = None,
    ) -> list[Hit]:
        """The best `k` documents for `query` (one passage each unless `per_doc` > 1).

        `doc_ids` restricts the search to those documents (e.g. the evidence a risk cites).
        """
        query = query.strip()
        if not query:
            raise QueryError("the query is empty")
        if k < 1:
            raise QueryError("k must be at least 1")
        query = query[:MAX_QUERY_CHARS]
        filters = filters or SearchFilters()
        if not self.rows:
            return []
        pool = max(50, k * 10)
        mask = self._mask(filters, doc_ids)
        sparse = self._sparse(query, mask, pool) if mode in ("hybrid", "bm25") else []
        dense = self._dense(query, filters, pool, doc_ids) if mode in ("hybrid", "dense") else []

        self._last_components = ({s.index: s.score for s in dense}, {s.index: s.score for s in sparse})
        fused: dict[int, float] = {}
        if mode == "bm25":
            fused = {s.index: s.score for s in sparse}
        elif mode == "dense":
            fused = {s.index: s.score for s in dense}
        else:
            for rank, s in enumerate(dense):
                fused[s.index] = fused.get(s.index, 0.0) + self.dense_weight / (RRF_K + rank + 1)
            for rank, s in enumerate(sparse):
                fused[s.index] = fused.get(s.index, 0.0) + self.sparse_weight / (RRF_K + rank + 1)
        return self._collapse(fused, k, per_doc, detect_language(query))

    def _collapse(self, fused: dict[int, float], k: int, per_doc: int, query_lang: str) -> list[Hit]:
        ranked = sorted(fused.items(), key=lambda item: (-item[1], self.rows[item[0]].chunk_id))
        by_doc: dict[str, list[tuple[int, float]]] = {}
        order: list[str] = []
        for index, score in ranked:
            doc_id = self.rows[index].doc_id
            if doc_id not in by_doc:
                by_doc[doc_id] = []
                order.append(doc_id)
            by_doc[doc_id].append((index, score))
        hits: list[Hit] = []
        for doc_id in order:
            candidates = by_doc[doc_id]
            best_score = candidates[0][1]
            preferred = [c for c in candidates if self.rows[c[0]].lang == query_lang] or candidates
            chosen = preferred[:per_doc]
            dense, sparse = self._last_components
            for rank, (index, score) in enumerate(chosen):
                row_score = best_score if rank == 0 else score
                hits.append(self._hit(self.rows[index], row_score, dense.get(index), sparse.get(index)))
            if len({h.doc_id for h in hits}) >= k:
                break
        return hits

    @staticmethod
    def _hit(row: ChunkRow, score: float, dense: float | None, sparse: float | None) -> Hit:
        return Hit(
            doc_id=row.doc_id,
            chunk_id=row.chunk_id,
            title_zh=row.title_zh,
            title_en=row.title_en,
            type=row.type,
            language=row.lang,
            heading=row.heading,
            score=round(score, 6),
            dense=None if dense is None else round(dense, 4),
            sparse=None if sparse is None else round(sparse, 4),
            text=row.text,
            sources=[Source.model_validate(s) for s in row.sources],
            scenarios=row.scenarios,
            regions=row.regions,
        )

    def chunk(self, chunk_id: str) -> ChunkRow | None:
        position = self._position.get(chunk_id)
        return self.rows[position] if position is not None else None

    def document_chunks(self, doc_id: str) -> list[ChunkRow]:
        return [r for r in self.rows if r.doc_id == doc_id]

    def embedding_text(self, row: ChunkRow) -> str:
        return embedding_text(row)
