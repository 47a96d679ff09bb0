"""BM25 over each document's two titles (Chinese and English): the document-level ranker of the retriever.

A passage's words already include its document's title once, diluted by the passage's own words; a
document whose title names what the question asks about ("AntChain Trusple: cross-border trade
orders on-chain…") is ranked on that match here, one entry per document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copilot.index.dense import best_first
from copilot.text.segment import tokenize

if TYPE_CHECKING:
    from copilot.index.rows import ChunkRow


class TitleIndex:
    def __init__(self, titles: dict[str, tuple[str, str]]) -> None:
        """`titles`: {doc_id: (title_zh, title_en)}; documents without a title are not ranked."""
        import bm25s

        self.doc_ids = [doc_id for doc_id, (zh, en) in titles.items() if zh or en]
        tokens = [tokenize(f"{titles[d][0]} {titles[d][1]}") or ["\u2205"] for d in self.doc_ids]
        self._bm25: Any = None
        if self.doc_ids:
            self._bm25 = bm25s.BM25()
            self._bm25.index(tokens, show_progress=False)

        self.first: list[int] = []
        """Per document of `doc_ids`: the position of its first passage in the retriever's rows (see `of`)."""

    @classmethod
    def of(cls, rows: list[ChunkRow], doc_chunks: dict[str, list[int]]) -> TitleIndex:
        """The titles of the retriever's documents (`doc_chunks`: each document's passage positions in `rows`)."""
        index = cls({d: (rows[p[0]].title_zh, rows[p[0]].title_en) for d, p in doc_chunks.items()})
        index.first = [doc_chunks[d][0] for d in index.doc_ids]
        return index

    def __len__(self) -> int:
        return len(self.doc_ids)

    def rank(self, tokens: list[str], mask: np.ndarray | None, n: int) -> list[str]:
        """The `n` documents whose titles best match `tokens` (BM25 > 0); `mask`: a boolean per passage of the
        retriever's rows, a document allowed when its first passage is (filters are per document)."""
        if self._bm25 is None or not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        if mask is not None:
            scores = np.where(mask[self.first], scores, 0.0)
        return [self.doc_ids[i] for i in best_first(scores, n, positive_only=True)]
