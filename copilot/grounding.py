"""Grounding of one request: every passage retrieved for it, and citations made from them.

A citation may only point to a passage retrieved for this request, and every
number shown must appear in the user's input or a cited passage. The skills
retrieve through a `Grounding`, so both rules can be checked afterwards by the
validators, in offline and LLM mode alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase
from copilot.results import Citation

QUOTE_CHARS = 600


class Grounding:
    def __init__(self, kb: KnowledgeBase, lang: str, input_text: str = "") -> None:
        self.kb = kb
        self.lang = lang
        self.input_text = input_text
        self.hits: dict[str, Hit] = {}
        self._cited: dict[str, Citation] = {}

    def _record(self, hits: list[Hit]) -> list[Hit]:
        for hit in hits:
            self.hits.setdefault(hit.chunk_id, hit)
        return hits

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        return self._record(self.kb.search(query, k=k, filters=filters))

    def passage(self, doc_id: str, query: str) -> Hit | None:
        """The best passage of one document for `query` (in the request's language when possible)."""
        hit = self.kb.best_passage(doc_id, query, self.lang)
        if hit is not None:
            self._record([hit])
        return hit

    def cite(self, hit: Hit) -> Citation:
        """A citation of a retrieved passage; citing the same passage twice returns one citation."""
        if hit.chunk_id not in self.hits:
            raise ValueError(f"{hit.chunk_id} was not retrieved for this request")
        citation = self._cited.get(hit.chunk_id)
        if citation is None:
            quote = hit.text if len(hit.text) <= QUOTE_CHARS else hit.text[:QUOTE_CHARS].rstrip() + "…"
            citation = Citation(
                doc_id=hit.doc_id,
                chunk_id=hit.chunk_id,
                title=hit.title(self.lang),
                type=hit.type,
                sources=hit.sources,
                quote=quote,
            )
            self._cited[hit.chunk_id] = citation
        return citation

    def cite_doc(self, doc_id: str, query: str) -> Citation | None:
        hit = self.passage(doc_id, query)
        return self.cite(hit) if hit is not None else None

    @property
    def citations(self) -> list[Citation]:
        return list(self._cited.values())

    def cited_text(self) -> str:
        """Full text of every cited passage (a citation's quote may be shortened; the check uses the whole)."""
        return self.text_of(self._cited.values())

    def text_of(self, citations: Iterable[Citation]) -> str:
        """Full text and title of each cited passage retrieved for this request (what its numbers may come from).

        Titles count: renderers print a case's title, and titles carry figures ("…签发第10万份").
        """
        hits = [self.hits[c.chunk_id] for c in citations if c.chunk_id in self.hits]
        return "\n".join(hit.text + "\n" + hit.title(self.lang) for hit in hits)
