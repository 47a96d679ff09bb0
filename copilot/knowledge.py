"""The knowledge base a skill works with: structured corpus entries plus the retriever.

Skills need both kinds of access: the glossary, the risk library and the
playbooks as typed entries (to compose checklists and plans), and retrieval (to
ground every statement in a passage retrieved for this request, which is what
a citation must point to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from copilot.corpus.loader import load_corpus
from copilot.corpus.models import Document, GlossaryEntry, PlaybookEntry, RiskEntry
from copilot.index.models import Hit, SearchFilters
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore
from copilot.settings import Settings


class KnowledgeError(RuntimeError):
    """The knowledge base cannot be used (empty index, corpus problems); the message says how to fix it."""


@dataclass(frozen=True)
class TermMatch:
    entry: GlossaryEntry
    surface: str
    start: int


class KnowledgeBase:
    def __init__(self, documents: list[Document], retriever: Retriever) -> None:
        self.documents = {d.id: d for d in documents}
        self.retriever = retriever

    @classmethod
    def open(cls, settings: Settings, store: ChunkStore | None = None) -> KnowledgeBase:
        """Load the configured corpus and open the index built from it."""
        loaded = load_corpus(settings.corpus_path)
        if not loaded.documents:
            raise KnowledgeError(f"no valid documents in {settings.corpus_path}")
        store = store or ChunkStore.open(settings)
        if store.count() == 0:
            raise KnowledgeError("the index is empty: run `nego index` first")
        return cls(loaded.documents, Retriever(store))

    # -- typed access -----------------------------------------------------------------------------
    def doc(self, doc_id: str) -> Document | None:
        return self.documents.get(doc_id)

    def title(self, doc_id: str, lang: str) -> str:
        doc = self.documents.get(doc_id)
        return doc.meta.title(lang) if doc else doc_id

    @cached_property
    def glossary(self) -> list[GlossaryEntry]:
        return [d.entry for d in self.documents.values() if isinstance(d.entry, GlossaryEntry)]

    @cached_property
    def risks(self) -> list[RiskEntry]:
        return [d.entry for d in self.documents.values() if isinstance(d.entry, RiskEntry)]

    @cached_property
    def playbooks(self) -> dict[str, PlaybookEntry]:
        return {d.entry.scenario: d.entry for d in self.documents.values() if isinstance(d.entry, PlaybookEntry)}

    def playbook(self, scenario: str) -> PlaybookEntry:
        try:
            return self.playbooks[scenario]
        except KeyError as exc:
            raise KnowledgeError(f"no playbook for scenario {scenario!r}") from exc

    @cached_property
    def _term_pattern(self) -> tuple[re.Pattern[str], dict[str, GlossaryEntry]]:
        surfaces: dict[str, GlossaryEntry] = {}
        for entry in self.glossary:
            for form in _surface_forms(entry):
                surfaces.setdefault(form.lower(), entry)
        ordered = sorted(surfaces, key=len, reverse=True)  # longest first: "consortium chain" before "chain"
        parts = []
        for s in ordered:
            escaped = re.escape(s)
            parts.append(rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])" if s.isascii() else escaped)
        return re.compile("|".join(parts), re.IGNORECASE), surfaces

    def find_terms(self, text: str) -> list[TermMatch]:
        """Glossary terms mentioned in `text`, each once, in order of first mention."""
        pattern, surfaces = self._term_pattern
        seen: set[str] = set()
        found = []
        for m in pattern.finditer(text):
            entry = surfaces[m.group(0).lower()]
            if entry.id not in seen:
                seen.add(entry.id)
                found.append(TermMatch(entry, m.group(0), m.start()))
        return found

    # -- retrieval --------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        return self.retriever.search(query, k=k, filters=filters)

    def best_passage(self, doc_id: str, query: str, lang: str) -> Hit | None:
        """The passage of `doc_id` that best answers `query`, preferring `lang`."""
        if doc_id not in self.documents:
            return None
        return self.retriever.best_in_document(doc_id, query, lang)


_PARENTHESISED = re.compile(r"^(.*?)\s*[（(]([^）)]+)[）)]\s*$")


def _split_title(title: str) -> tuple[str, str | None]:
    match = _PARENTHESISED.match(title.strip())
    return (match.group(1).strip(), match.group(2).strip()) if match else (title.strip(), None)


def _surface_forms(entry: GlossaryEntry) -> list[str]:
    """How a term is mentioned: its titles, the titles' main part, its aliases.

    A parenthesised part of a title ("实用拜占庭容错（PBFT）") counts as a name only when it is
    the term's name in the other language; otherwise it is a description ("Important data
    (China)"), and matching it would flag plain words as jargon.
    """
    forms = [entry.title_zh.strip(), entry.title_en.strip(), *entry.aliases_zh, *entry.aliases_en]
    parts = [_split_title(entry.title_zh), _split_title(entry.title_en)]
    mains = {main.lower() for main, _ in parts}
    for main, inner in parts:
        forms.append(main)
        if inner is not None and inner.lower() in mains:
            forms.append(inner)
    return [f for f in dict.fromkeys(f.strip() for f in forms) if len(f) >= 2]
