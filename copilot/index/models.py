"""Typed values the index hands out: filters, hits and indexing reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.corpus.models import Source

if TYPE_CHECKING:
    from copilot.index.rows import ChunkRow


class SearchFilters(BaseModel):
    """Metadata filters; every field is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str | None = None
    scenario: str | None = None
    region: str | None = None
    language: str | None = None

    def is_empty(self) -> bool:
        return not any((self.type, self.scenario, self.region, self.language))

    def where(self, doc_ids: set[str] | None = None) -> dict[str, Any] | None:
        """These filters (and a set of documents) as a Chroma `where` clause; None: no condition."""
        conditions: list[dict[str, Any]] = []
        if doc_ids is not None:
            conditions.append({"doc_id": {"$in": sorted(doc_ids)}})
        if self.type:
            conditions.append({"type": self.type})
        if self.language:
            conditions.append({"lang": self.language})
        if self.scenario:
            conditions.append({f"sc__{self.scenario}": True})
        if self.region:
            conditions.append({f"rg__{self.region}": True})
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}


class Hit(BaseModel):
    """One retrieved passage."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    chunk_id: str
    title_zh: str
    title_en: str
    type: str
    language: str
    heading: str
    score: float
    dense: float | None = Field(default=None, description="cosine similarity of the passage to the query, if ranked")
    sparse: float | None = Field(default=None, description="BM25 score of the passage, if it matched")
    text: str
    sources: list[Source]
    scenarios: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    @classmethod
    def of(cls, row: ChunkRow, score: float, dense: float | None, sparse: float | None) -> Hit:
        """The hit for a stored passage (a full row: text, titles and sources included)."""
        return cls(
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


class IndexReport(BaseModel):
    documents: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    indexed: bool = True

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.chunks} chunks: {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} unchanged; {len(self.problems)} problems; "
            f"{self.seconds:.2f} s"
        )


class IndexStatus(BaseModel):
    documents: int
    chunks: int
    last_update: str | None
    embedding: str
    location: str
