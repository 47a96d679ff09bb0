"""A KnowledgeBase that logs what each request retrieved, so citations can be checked from outside the core.

Every passage a skill may cite is retrieved through `KnowledgeBase.search` or
`KnowledgeBase.best_passage` (via its Grounding). Wrapping those two lets the
evals know, per request, which chunks were retrieved and their full text: the
ground truth for citation validity and numeric faithfulness, in offline and
LLM mode alike, without reaching into the core.

The retriever keeps per-query state, so retrieval is serialised with a lock;
the rest of a request (model calls above all) runs concurrently.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase


class RecordingKnowledgeBase(KnowledgeBase):
    def __init__(self, base: KnowledgeBase) -> None:
        # Share the base's documents, retriever and any cached properties (glossary, term pattern...).
        self.__dict__.update(base.__dict__)
        self._lock = threading.RLock()
        self._local = threading.local()

    @contextmanager
    def recording(self) -> Iterator[dict[str, Hit]]:
        """Collect, in this thread, every chunk retrieved inside the block (chunk id -> hit)."""
        log: dict[str, Hit] = {}
        previous = getattr(self._local, "log", None)
        self._local.log = log
        try:
            yield log
        finally:
            self._local.log = previous

    def _note(self, hits: list[Hit]) -> None:
        log: dict[str, Hit] | None = getattr(self._local, "log", None)
        if log is not None:
            for hit in hits:
                log.setdefault(hit.chunk_id, hit)

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        with self._lock:
            hits = super().search(query, k=k, filters=filters)
        self._note(hits)
        return hits

    def best_passage(self, doc_id: str, query: str, lang: str) -> Hit | None:
        with self._lock:
            hit = super().best_passage(doc_id, query, lang)
        if hit is not None:
            self._note([hit])
        return hit

    def warm_up(self) -> None:
        """Load the embedder and BM25 state once, before worker threads share them."""
        with self._lock:
            self.retriever.search("warm up", k=1)
        _ = self.glossary, self.risks, self.playbooks
        self.find_terms("warm up")
