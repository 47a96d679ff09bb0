"""Typed values the index hands out: filters, hits and indexing reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from copilot.corpus.models import Source


class SearchFilters(BaseModel):
    """Metadata filters; every field is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str | None = None
    scenario: str | None = None
    region: str | None = None
    language: str | None = None

    def is_empty(self) -> bool:
        return not any((self.type, self.scenario, self.region, self.language))


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
