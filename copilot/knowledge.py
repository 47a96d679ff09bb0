"""The knowledge base a skill works with: structured corpus entries plus the retriever.

Skills need both kinds of access: the glossary, the risk library and the
playbooks as typed entries (to compose checklists and plans), and retrieval (to
ground every statement in a passage retrieved for this request, which is what
a citation must point to).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from copilot.corpus.lexicons import IndustryLexicon, Regime
from copilot.corpus.loader import load_corpus
from copilot.corpus.models import Document, GlossaryEntry, PlaybookEntry, RiskEntry
from copilot.index.models import Hit, SearchFilters
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore
from copilot.reading.chains import LineMatcher, contradicting_lines
from copilot.settings import Settings
from copilot.text.injection import has_injection, strip_injections
from copilot.understand.hub import Understanding

TERM_CACHE_TEXTS = 2048
DATA = Path(__file__).resolve().parent / "data" / "knowledge.yaml"


@cache
def _warm_up_query() -> str:
    """The bilingual query `warm_up` searches with (data/knowledge.yaml)."""
    return str(yaml.safe_load(DATA.read_text(encoding="utf-8"))["warm_up_query"])


class KnowledgeError(RuntimeError):
    """The knowledge base cannot be used (empty index, corpus problems); the message says how to fix it."""


@dataclass(frozen=True)
class TermMatch:
    entry: GlossaryEntry
    surface: str
    start: int


class KnowledgeBase:
    """Typed corpus entries and retrieval, both with injected instructions removed (copilot.text.injection).

    A corpus text that speaks to the model ("ignore previous instructions…") is never handed to a
    skill: offline skills would copy it into an answer, and in LLM mode it is one less attempt on the
    model. The index itself is not changed.
    """

    def __init__(
        self,
        documents: list[Document],
        retriever: Retriever,
        industries: list[IndustryLexicon] | None = None,
        regimes: list[Regime] | None = None,
    ) -> None:
        self.industries = list(industries or [])
        """Industry lexicons (corpus/industries): copilot.reading matches a deal's industry to one."""
        self.regimes = list(regimes or [])
        """Compliance regimes (corpus/regimes.yaml) with the policy covering each, when the corpus has it."""
        cleaned = (_without_injections(d) for d in documents)
        self.documents = {d.id: d for d in cleaned if d is not None}
        self.retriever = retriever
        self._terms_found: OrderedDict[str, tuple[TermMatch, ...]] = OrderedDict()
        self._subset_patterns: OrderedDict[tuple[int, ...], re.Pattern[str]] = OrderedDict()
        self._terms_lock = threading.Lock()
        self._line_matchers: dict[tuple[str, str], LineMatcher] = {}

    @classmethod
    def open(cls, settings: Settings, store: ChunkStore | None = None) -> KnowledgeBase:
        """Load the configured corpus and open the index built from it."""
        loaded = load_corpus(settings.corpus_path)
        if not loaded.documents:
            raise KnowledgeError(f"no valid documents in {settings.corpus_path}")
        store = store or ChunkStore.open(settings)
        if store.count() == 0:
            raise KnowledgeError(f"the index at {store.where} is empty: run `nego index` first")
        return cls(loaded.documents, Retriever(store), loaded.industries, loaded.regimes)

    # -- typed access -----------------------------------------------------------------------------
    def doc(self, doc_id: str) -> Document | None:
        return self.documents.get(doc_id)

    def title(self, doc_id: str, lang: str) -> str:
        doc = self.documents.get(doc_id)
        return doc.meta.title(lang) if doc else doc_id

    @cached_property
    def understanding(self) -> Understanding:
        """The text classifiers (copilot.understand), sharing the retriever's embedder."""
        return Understanding(self.retriever.store.embedder.encode)

    @cached_property
    def glossary(self) -> list[GlossaryEntry]:
        return [d.entry for d in self.documents.values() if isinstance(d.entry, GlossaryEntry)]

    @cached_property
    def risks(self) -> list[RiskEntry]:
        return [d.entry for d in self.documents.values() if isinstance(d.entry, RiskEntry)]

    @cached_property
    def playbooks(self) -> dict[str, PlaybookEntry]:
        return {d.entry.scenario: d.entry for d in self.documents.values() if isinstance(d.entry, PlaybookEntry)}

    def line_matcher(self, chain_type: str, lang: str) -> LineMatcher:
        """Finds output sentences copied from the corpus lines (in `lang`) that are claims about another chain
        type than `chain_type` (copilot.reading.chains): built once per chain type and language."""
        found = self._line_matchers.get((chain_type, lang))
        if found is None:
            found = LineMatcher(contradicting_lines(self.glossary, self.playbooks.values(), chain_type, lang))
            self._line_matchers[(chain_type, lang)] = found
        return found

    def playbook(self, scenario: str) -> PlaybookEntry:
        try:
            return self.playbooks[scenario]
        except KeyError as exc:
            raise KnowledgeError(f"no playbook for scenario {scenario!r}") from exc

    @cached_property
    def _term_parts(self) -> tuple[list[tuple[str, str]], dict[str, GlossaryEntry]]:
        """(surface, its pattern) longest first, and the entry of each (lower-cased) surface."""
        surfaces: dict[str, GlossaryEntry] = {}
        for entry in self.glossary:
            for form in _surface_forms(entry):
                surfaces.setdefault(form.lower(), entry)
        ordered = sorted(surfaces, key=len, reverse=True)  # longest first: "consortium chain" before "chain"
        parts = []
        for s in ordered:
            escaped = re.escape(s)
            parts.append((s, rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])" if s.isascii() else escaped))
        return parts, surfaces

    @cached_property
    def _term_pattern(self) -> tuple[re.Pattern[str], dict[str, GlossaryEntry]]:
        parts, surfaces = self._term_parts
        return re.compile("|".join(p for _, p in parts), re.IGNORECASE), surfaces

    def _pattern_for(self, text: str) -> re.Pattern[str] | None:
        """The glossary pattern reduced to the surfaces `text` contains (None: it contains none).

        The whole pattern tries ~800 alternatives at every character (~4 ms a text). Leaving out
        alternatives that match nowhere in `text` changes no match, and when `text` has no cased
        character outside ASCII, "matches somewhere, ignoring case" is exactly "its lower-cased form
        is in text.lower()". Other texts get the whole pattern.
        """
        parts, _ = self._term_parts
        beyond_ascii = text.encode("ascii", "ignore").decode("ascii")
        if len(beyond_ascii) != len(text):
            rest = "".join(c for c in text if not c.isascii())
            if rest.lower() != rest or rest.upper() != rest:
                return self._term_pattern[0]
        lowered = text.lower()
        present = tuple(i for i, (surface, _) in enumerate(parts) if surface in lowered)
        if not present:
            return None
        with self._terms_lock:
            pattern = self._subset_patterns.get(present)
        if pattern is None:
            pattern = re.compile("|".join(parts[i][1] for i in present), re.IGNORECASE)
            with self._terms_lock:
                self._subset_patterns[present] = pattern
                while len(self._subset_patterns) > TERM_CACHE_TEXTS:
                    self._subset_patterns.popitem(last=False)
        return pattern

    def warm_up(self) -> None:
        """Load what a first request would otherwise load lazily: encoder weights, jieba's dictionary, BM25
        state, the typed entries and the glossary patterns (a cold first reply took ~4.5 s in the app)."""
        self.retriever.search(_warm_up_query(), k=1)
        self.retriever.load_vectors()
        _ = self.glossary, self.risks, self.playbooks
        self.find_terms(_warm_up_query())

    def find_terms(self, text: str) -> list[TermMatch]:
        """Glossary terms mentioned in `text`, each once, in order of first mention.

        Remembered for recent texts: skills scan the same deal and passages several times per request, and
        one scan of the whole glossary pattern takes a few milliseconds.
        """
        with self._terms_lock:
            known = self._terms_found.get(text)
            if known is not None:
                self._terms_found.move_to_end(text)
                return list(known)
        found = self._scan_terms(text)
        with self._terms_lock:
            self._terms_found[text] = tuple(found)
            while len(self._terms_found) > TERM_CACHE_TEXTS:
                self._terms_found.popitem(last=False)
        return found

    def _scan_terms(self, text: str, *, reduced: bool = True) -> list[TermMatch]:
        surfaces = self._term_parts[1]
        pattern = self._pattern_for(text) if reduced else self._term_pattern[0]
        seen: set[str] = set()
        found: list[TermMatch] = []
        if pattern is None:
            return found
        for m in pattern.finditer(text):
            entry = surfaces[m.group(0).lower()]
            if entry.id not in seen:
                seen.add(entry.id)
                found.append(TermMatch(entry, m.group(0), m.start()))
        return found

    # -- retrieval --------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        hits = (_clean_hit(h) for h in self.retriever.search(query, k=k, filters=filters))
        return [h for h in hits if h is not None]

    def best_passage(self, doc_id: str, query: str, lang: str) -> Hit | None:
        """The passage of `doc_id` that best answers `query`, preferring `lang`."""
        if doc_id not in self.documents:
            return None
        hit = self.retriever.best_in_document(doc_id, query, lang)
        return _clean_hit(hit) if hit is not None else None


def _clean_hit(hit: Hit) -> Hit | None:
    """The passage without injected instructions (None when nothing else is left)."""
    if not has_injection(hit.text):
        return hit
    text = strip_injections(hit.text)
    return hit.model_copy(update={"text": text}) if text.strip() else None


def _strip_strings(value: Any) -> Any:
    if isinstance(value, str):
        return strip_injections(value)
    if isinstance(value, dict):
        return {k: _strip_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_strings(v) for v in value]
    return value


def _without_injections(doc: Document) -> Document | None:
    """`doc` with injected instructions removed from its sections and entry fields.

    None when an entry field held nothing but an injection (the entry is no longer valid).
    """
    if not any(has_injection(text) for text in doc.sections.values()):
        return doc  # a YAML entry's text fields are all rendered into its sections
    sections = {lang: strip_injections(text) for lang, text in doc.sections.items()}
    entry = doc.entry
    if entry is not None:
        data = entry.model_dump()
        cleaned = _strip_strings(data)
        if cleaned != data:
            try:
                entry = type(entry).model_validate(cleaned)
            except ValidationError:
                return None
    if sections == doc.sections and entry is doc.entry:
        return doc
    return doc.model_copy(update={"sections": sections, "entry": entry})


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
