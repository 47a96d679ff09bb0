"""Hybrid retrieval: BM25 over jieba/English tokens fused with dense vectors.

Sparse and dense candidates are fused with reciprocal rank fusion (copilot/index/fusion.py); metadata
filters apply to both; chunks of one document are collapsed (by default one hit per document, preferring
a passage in the query's language), so a Chinese/English pair of a paragraph never fills two result slots.

Memory: up to LEAN_MIN_CHUNKS passages every row is held in memory. A larger index keeps only lean rows (ids,
language, type, scenarios, regions, titles) and BM25 memory-mapped from the snapshot cache; a passage's text,
sources, tokens and stored vector are fetched from the store when a hit or a best-passage look-up needs them
(one Chroma call per search or per document, kept in a bounded cache; see PRELOAD_MAX_CHUNKS).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from copilot.index.dense import best_first, nearest, stacked
from copilot.index.fusion import PARAMS, FusionParams, Rankings, Scored, Slice, fuse, query_slice
from copilot.index.indexer import embedding_text
from copilot.index.models import Hit, SearchFilters
from copilot.index.retriever_cache import Snapshot, SnapshotCache, build_bm25, membership
from copilot.index.store import ChunkRow, ChunkStore
from copilot.index.titles import TitleIndex
from copilot.text.lang import detect_language
from copilot.text.segment import tokenize

Mode = Literal["hybrid", "bm25", "dense"]
MAX_QUERY_CHARS = 4000
TOKEN_CACHE_QUERIES = 4096
PRELOAD_MAX_CHUNKS = 20_000
"""Up to this many passages, every stored vector is fetched in one round trip (~2 KB each); above, per document."""
LEAN_MIN_CHUNKS = 10_000
"""Above this many passages the retriever holds lean rows and fetches passages on demand (see the module's docs).
The shipped corpus (~1.2k passages) stays whole in memory: no store call on its hot path."""
FETCHED_CACHE = 8192
"""Passages (full row and vector) fetched on demand that are kept for later look-ups."""


class QueryError(ValueError):
    """The query cannot be searched (empty, or a filter value that does not exist)."""


class Retriever:
    def __init__(
        self,
        store: ChunkStore,
        *,
        fusion: Mapping[Slice, FusionParams] | None = None,
        cache: bool = True,
    ) -> None:
        """`cache`: reuse the snapshot saved on disk by the last open of an unchanged store
        (copilot/index/retriever_cache.py); results are the same either way. `fusion`: weights per
        query slice (default copilot.index.fusion.PARAMS)."""
        self.store = store
        self._cache = SnapshotCache.for_store(store) if cache else None
        self.fusion: Mapping[Slice, FusionParams] = fusion or PARAMS
        self.rows: list[ChunkRow] = []
        # The query's vector is cached per search and per thread: the UI searches from many threads at once.
        self._local = threading.local()
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}
        self._all_vectors = False
        self._matrix: np.ndarray | None = None  # every stored vector in row order, once loaded (see _dense)
        self._tokens: OrderedDict[str, list[str]] = OrderedDict()
        self._fetched: OrderedDict[str, ChunkRow] = OrderedDict()
        self._lean_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.refresh()

    def refresh(self) -> None:
        """Reload chunks from the store (after indexing) and rebuild the sparse index, or reuse the cached ones."""
        snapshot = self._snapshot()
        rows = snapshot.rows
        self.rows = rows
        self.lean = snapshot.lean
        self._vectors = {}
        self._all_vectors = False
        self._matrix = None
        with self._lock:
            self._fetched = OrderedDict()
            self._lean_vectors = OrderedDict()
        self._row_tokens = [] if self.lean else [frozenset(r.tokens) for r in rows]
        self._position = {r.chunk_id: i for i, r in enumerate(rows)}
        self._doc_chunks: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            self._doc_chunks.setdefault(r.doc_id, []).append(i)
        self._bm25: Any = snapshot.bm25
        self._field_values: dict[str, np.ndarray] = {
            "type": np.array([r.type for r in rows], dtype=object),
            "lang": np.array([r.lang for r in rows], dtype=object),
        }
        # One boolean column per scenario and region (a set per row cost ~40 MB at 100k passages)
        self._scenarios = membership(r.scenarios for r in rows)
        self._regions = membership(r.regions for r in rows)
        self._titles: TitleIndex | None = None  # see _title_index

    def _snapshot(self) -> Snapshot:
        cache = self._cache
        key = cache.key(self.store) if cache is not None else None
        if cache is not None and key is not None:
            cached = cache.load(key)
            if cached is not None:
                return cached
        if self.store.count() > LEAN_MIN_CHUNKS:
            pairs = sorted(self.store.lean_rows(), key=lambda pair: pair[0].chunk_id)
            rows = [row for row, _ in pairs]
            snapshot = Snapshot(rows, build_bm25(rows, [tokens for _, tokens in pairs]), lean=True)
            del pairs
        else:
            rows = sorted(self.store.rows(), key=lambda r: r.chunk_id)
            snapshot = Snapshot(rows, build_bm25(rows))
        # Saved only if nothing was written to the store while it was read: never a snapshot under a wrong key.
        if cache is not None and key is not None and cache.key(self.store) == key:
            cache.save(key, snapshot)
        return snapshot

    def __len__(self) -> int:
        return len(self.rows)

    # -- filters -----------------------------------------------------------------------------------
    def _mask(self, filters: SearchFilters, doc_ids: set[str] | None = None) -> np.ndarray:
        mask = np.ones(len(self.rows), dtype=bool)
        if doc_ids is not None:
            mask &= self._doc_mask(doc_ids)
        if filters.type:
            mask &= self._field_values["type"] == filters.type
        if filters.language:
            mask &= self._field_values["lang"] == filters.language
        if filters.scenario:
            mask &= self._scenarios.get(filters.scenario, False)
        if filters.region:
            mask &= self._regions.get(filters.region, False)
        return mask

    def _doc_mask(self, doc_ids: set[str]) -> np.ndarray:
        """True for the passages of `doc_ids` (from the document index, not a pass over every row)."""
        mask = np.zeros(len(self.rows), dtype=bool)
        for doc_id in doc_ids:
            positions = self._doc_chunks.get(doc_id)
            if positions:
                mask[positions] = True
        return mask

    # -- rankers -----------------------------------------------------------------------------------
    def _query_tokens(self, query: str) -> list[str]:
        """`tokenize(query)`, remembered for recent queries (jieba is a large share of a best-passage look-up)."""
        with self._lock:
            tokens = self._tokens.get(query)
            if tokens is not None:
                self._tokens.move_to_end(query)
                return tokens
        tokens = tokenize(query)
        with self._lock:
            self._tokens[query] = tokens
            while len(self._tokens) > TOKEN_CACHE_QUERIES:
                self._tokens.popitem(last=False)
        return tokens

    def load_vectors(self) -> None:
        """Fetch the stored vector of every passage in one round trip (indexes up to PRELOAD_MAX_CHUNKS).

        Best-passage look-ups and cross-lingual scoring need stored vectors; fetching them document by
        document was a Chroma call per citation (~2 ms each, ~85 per brief). The values are the same.
        """
        if self._all_vectors or len(self.rows) > PRELOAD_MAX_CHUNKS:
            return
        fetched = self.store.vectors([r.chunk_id for r in self.rows])
        matrix = stacked(fetched, [r.chunk_id for r in self.rows])
        with self._lock:
            self._vectors.update(fetched)
            self._matrix = matrix
            self._all_vectors = True

    def _cached(self, cache: OrderedDict[str, Any], positions: list[int]) -> tuple[dict[int, Any], list[int]]:
        """What `cache` holds for `positions` (moved to the recent end), and the positions it lacks."""
        found: dict[int, Any] = {}
        missing: list[int] = []
        with self._lock:
            for i in positions:
                value = cache.get(self.rows[i].chunk_id)
                if value is None:
                    missing.append(i)
                else:
                    cache.move_to_end(self.rows[i].chunk_id)
                    found[i] = value
        return found, missing

    def _keep(self, cache: OrderedDict[str, Any], values: dict[str, Any]) -> None:
        with self._lock:
            cache.update(values)
            while len(cache) > FETCHED_CACHE:
                cache.popitem(last=False)

    def _rows_of(self, positions: list[int], with_vectors: bool = False) -> dict[int, ChunkRow]:
        """Full rows of `positions` (lean mode): from the bounded cache, else one store call (which also
        brings their stored vectors when `with_vectors`: a best-passage look-up needs both)."""
        found, missing = self._cached(self._fetched, positions)
        if missing:
            ids = [self.rows[i].chunk_id for i in missing]
            fetched = self.store.passages(ids, vectors=with_vectors)
            self._keep(self._fetched, {cid: row for cid, (row, _) in fetched.items()})
            self._keep(self._lean_vectors, {cid: v for cid, (_, v) in fetched.items() if v is not None})
            found |= {i: fetched[self.rows[i].chunk_id][0] for i in missing if self.rows[i].chunk_id in fetched}
        return found

    def _full(self, i: int) -> ChunkRow:
        """Row `i` with its text, titles, sources and tokens."""
        if not self.lean:
            return self.rows[i]
        return self._rows_of([i]).get(i, self.rows[i])

    def _stored_vectors(self, positions: list[int]) -> dict[str, np.ndarray]:
        """Stored vectors, holding at least those of `positions` that the store has."""
        if self.lean:
            found, absent = self._cached(self._lean_vectors, positions)
            fetched = self.store.vectors([self.rows[i].chunk_id for i in absent]) if absent else {}
            self._keep(self._lean_vectors, fetched)
            return {self.rows[i].chunk_id: v for i, v in found.items()} | fetched
        self.load_vectors()
        if not self._all_vectors:
            with self._lock:
                missing = [self.rows[i].chunk_id for i in positions if self.rows[i].chunk_id not in self._vectors]
            if missing:
                fetched = self.store.vectors(missing)
                with self._lock:
                    self._vectors.update(fetched)
        return self._vectors

    def _sparse(self, query: str, mask: np.ndarray, n: int) -> list[Scored]:
        tokens = self._query_tokens(query)
        if not tokens or self._bm25 is None:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        scores = np.where(mask, scores, 0.0)
        return [Scored(i, float(scores[i])) for i in best_first(scores, n, positive_only=True)]

    def _vector(self, query: str) -> np.ndarray:
        vector: np.ndarray | None = getattr(self._local, "query_vector", None)
        if vector is None:
            vector = self.store.embedder.encode([query])[0]
            self._local.query_vector = vector
        return vector

    def _dense(self, query: str, n: int, mask: np.ndarray, where: dict[str, Any] | None) -> list[Scored]:
        """The `n` passages nearest to the query among those `mask` (Chroma: `where`) allows."""
        if not self.lean:
            self.load_vectors()
        vector = self._vector(query)
        if self._matrix is not None:  # exact, in memory: ~0.1 ms where a Chroma query takes ~3-6 ms
            return [Scored(i, s) for i, s in nearest(self._matrix, mask, vector, n)]
        results = self.store.query_dense(vector, min(n, len(self.rows)), where)
        return [Scored(self._position[c], s) for c, s in results if c in self._position]  # chunks it knows

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
        prefer_scenario: str | None = None,
    ) -> list[Hit]:
        """The best `k` documents for `query`, one passage each unless `per_doc` > 1.

        Documents are ranked on passages of both languages (every document is bilingual: a Chinese question
        finds a document through its Chinese half even when only English passages are wanted); the passage
        returned is in the filtered language, else the query's. `doc_ids` restricts the search to those
        documents (e.g. a risk's evidence); `prefer_scenario` (the deal's) ranks its documents higher.
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
        params = self.fusion[query_slice(query_lang := detect_language(query), filters.language, bool(prefer_scenario))]
        ranked = self.rankings(query, filters, mode, doc_ids, max(50, k * 10), params.title > 0)
        sparse_by = {s.index: s.score for s in ranked.sparse}
        dense_by = {s.index: s.score for s in ranked.dense}
        doc_scores: dict[str, float] = {}
        if mode == "hybrid":  # ranked passages -> ranked documents: copilot/index/fusion.py
            doc_scores = self.fused(ranked, params, prefer_scenario)
        else:
            for s in ranked.sparse or ranked.dense:
                doc_scores.setdefault(self.rows[s.index].doc_id, s.score)
        ordered = sorted(doc_scores.items(), key=lambda item: (-item[1], item[0]))

        wanted = filters.language or query_lang
        strict = filters.language is not None
        # The documents returned: the first k that have a passage to show. Only their passages are scored
        # below (profiled: fetching stored vectors was the largest cost of a search).
        chosen: list[tuple[str, float, list[int]]] = []
        for doc_id, score in ordered:
            positions = self._candidates(doc_id, wanted, strict)
            if positions:
                chosen.append((doc_id, score, positions))
                if len(chosen) >= k:
                    break
        missing = [i for _, _, positions in chosen if not any(i in dense_by for i in positions) for i in positions]
        if missing:
            # The wanted-language passages of these documents were not among the dense candidates
            # (typically a cross-lingual match): score them against the query directly.
            vectors = self._stored_vectors(missing)
            query_vector = self._vector(query)
            for i in missing:
                vector = vectors.get(self.rows[i].chunk_id)
                if vector is not None:
                    dense_by[i] = float(vector @ query_vector)
        picked: list[tuple[int, float]] = []
        for _doc_id, score, positions in chosen:
            best = sorted(
                positions, key=lambda i: (-dense_by.get(i, -1.0), -sparse_by.get(i, 0.0), self.rows[i].chunk_id)
            )
            picked += [(index, score) for index in best[:per_doc]]
        if self.lean:
            self._rows_of([i for i, _ in picked])  # the hits' passages in one store call
        return [Hit.of(self._full(i), score, dense_by.get(i), sparse_by.get(i)) for i, score in picked]

    def rankings(
        self, query: str, filters: SearchFilters, mode: Mode, doc_ids: set[str] | None, pool: int, titles: bool
    ) -> Rankings:
        """Each ranker's candidates for `query` under `filters` (all but the language: see `search`)."""
        ranking_filters = filters.model_copy(update={"language": None})
        mask = self._mask(ranking_filters, doc_ids)
        self._local.query_vector = None
        out = Rankings()
        if mode in ("hybrid", "bm25"):
            out.sparse = self._sparse(query, mask, pool)
        if mode in ("hybrid", "dense"):
            out.dense = self._dense(query, pool, mask, ranking_filters.where(doc_ids))
        if mode == "hybrid" and titles:
            out.titles = self._title_index().rank(self._query_tokens(query), mask, pool)
        return out

    def _title_index(self) -> TitleIndex:
        """The titles' BM25, built on first use (only a deal search weighs titles: copilot/index/fusion.py)."""
        with self._lock:
            self._titles = self._titles or TitleIndex.of(self.rows, self._doc_chunks)
            return self._titles

    def fused(self, ranked: Rankings, params: FusionParams, scenario: str | None = None) -> dict[str, float]:
        """Documents scored by fusing `ranked` (copilot/index/fusion.py); `scenario`'s documents boosted."""
        sparse = [self.rows[s.index].doc_id for s in ranked.sparse]
        dense = [self.rows[s.index].doc_id for s in ranked.dense]
        column = self._scenarios.get(scenario) if scenario and params.scenario_boost else None
        boosted = {
            d for d in {*sparse, *dense, *ranked.titles} if column is not None and column[self._doc_chunks[d][0]]
        }
        return fuse(sparse, dense, ranked.titles, params, boosted)

    def _candidates(self, doc_id: str, lang: str, strict: bool) -> list[int]:
        """The document's passages in `lang`; in any language when none is and the language is not required."""
        positions = self._doc_chunks.get(doc_id, [])
        in_lang = [i for i in positions if self.rows[i].lang == lang]
        return in_lang or ([] if strict else positions)

    def best_in_document(self, doc_id: str, query: str, lang: str) -> Hit | None:
        """The passage of one document that best matches `query`, in `lang` when the document has it.

        Ranked like `search` ranks a document's passages (vector similarity, then BM25), but
        without searching the whole index: used for every citation a skill makes.
        """
        positions = self._candidates(doc_id, lang, strict=False)
        if not positions:
            return None
        if self.lean:
            self._rows_of(positions, with_vectors=True)  # rows (tokens) and vectors of the document: one call
        query = query.strip()[:MAX_QUERY_CHARS] or self._full(positions[0]).title_en
        vectors = self._stored_vectors(positions)
        query_vector = self.store.embedder.encode([query])[0]
        tokens = set(self._query_tokens(query))
        scored = []
        for i in positions:
            vector = vectors.get(self.rows[i].chunk_id)
            similarity = float(vector @ query_vector) if vector is not None else -1.0
            overlap = len(tokens & (frozenset(self._full(i).tokens) if self.lean else self._row_tokens[i]))
            scored.append((-similarity, -overlap, self.rows[i].chunk_id, i, similarity))
        scored.sort()
        _, _, _, best, similarity = scored[0]
        return Hit.of(self._full(best), similarity, similarity, None)

    def chunk(self, chunk_id: str) -> ChunkRow | None:
        position = self._position.get(chunk_id)
        return self._full(position) if position is not None else None

    def document_chunks(self, doc_id: str) -> list[ChunkRow]:
        return [self._full(i) for i in self._doc_chunks.get(doc_id, [])]

    def embedding_text(self, row: ChunkRow) -> str:
        return embedding_text(row)
