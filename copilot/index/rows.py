"""A stored passage (ChunkRow, as Chroma keeps it in metadata) and what the store holds per document (DocState)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any


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
    """`row` with only what ranking and filtering need: text, tokens, sources and path dropped; the titles
    (ranked per document, copilot/index/titles.py) kept as one shared string per document."""
    zh, en = sys.intern(row.title_zh), sys.intern(row.title_en)
    return ChunkRow(
        row.chunk_id, row.doc_id, row.lang, row.type, "", "", [], zh, en, row.scenarios, row.regions, [], "", "", 0
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
