"""Helpers the offline skills share for working with retrieved passages.

Offline skills compose their text from corpus fields (a glossary outcome, a
playbook answer, a case's measured outcome). Every such piece must be backed by
a passage retrieved and cited for this request, and a field may be split across
chunks, so `Cited.text_of` cites, sentence by sentence, the chunk that holds it,
and `Cited.ground` keeps only the sentences whose figures a cited passage backs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from copilot.grounding import Grounding
from copilot.index.models import Hit
from copilot.knowledge import KnowledgeBase
from copilot.results import Citation
from copilot.skills.figures import number_bank, unknown, unsupported
from copilot.skills.notes import rep_notes_block
from copilot.text.chunking import split_sentences
from copilot.wording import Wording

_SPACE = re.compile(r"\s+")
_LIST_PREFIX = re.compile(r"^(?:[-*+]\s+|\d+[.)]\s+)")
_HEADING = re.compile(r"^#{1,6}\s")
_KEEP_CAPITAL = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday".split()
)


def squash(text: str) -> str:
    """Text without whitespace, for containment tests that survive re-chunking."""
    return _SPACE.sub("", text)


def clean_sentences(text: str) -> list[str]:
    """Sentences of a passage without headings and list markers."""
    out = []
    for sentence in split_sentences(text):
        if _HEADING.match(sentence):
            continue
        sentence = _LIST_PREFIX.sub("", sentence).strip()
        if sentence:
            out.append(sentence)
    return out


class Cited:
    """The passages one skill cites, in the order it cited them, and the figures they back.

    A brief runs several skills on one Grounding; each result lists only the
    passages that back its own text. The product rule is that every figure shown
    appears in the user's input or in a passage the result cites: `bank` holds the
    figures of `input_text` and of every passage cited so far, and `ground()`
    retrieves the passage a piece of corpus text comes from, citing it when it backs
    the piece's figures; a sentence whose figures no retrieved passage backs is left
    out rather than shown unsupported, so the rule holds even when retrieval misses.
    (This one class replaces the former `Cited` and `Sourcer`: copilot.skills.sourcing
    keeps the old name.)
    """

    def __init__(self, g: Grounding, input_text: str = "") -> None:
        self.g = g
        self.citations: list[Citation] = []
        self.bank = number_bank([input_text])

    # -- citing --------------------------------------------------------------------------------------
    def add(self, citation: Citation) -> Citation:
        """Cite (once) a passage already retrieved for this request, and accept its figures from now on."""
        if all(c.chunk_id != citation.chunk_id for c in self.citations):
            self.citations.append(citation)
            hit = self.g.hits.get(citation.chunk_id)
            extra = number_bank([hit.text if hit is not None else "", citation.title])
            self.bank.values |= extra.values
            self.bank.dates |= extra.dates
        return citation

    def hit(self, hit: Hit) -> Citation:
        return self.add(self.g.cite(hit))

    cite = hit

    def doc(self, doc_id: str, query: str) -> Citation | None:
        """Cite the passage of `doc_id` that best matches `query`, if the document has one."""
        hit = self.g.passage(doc_id, query)
        return self.hit(hit) if hit is not None else None

    cite_doc = doc

    def text_of(self, doc_id: str, text: str) -> list[Citation]:
        """Cite the passages of `doc_id` that hold `text` (one per chunk the text spans)."""
        found: list[Citation] = []
        for sentence in split_sentences(text):
            key = squash(sentence)
            if not key or any(key in squash(self.g.hits[c.chunk_id].text) for c in found):
                continue
            hit = self.g.passage(doc_id, sentence)
            if hit is None:
                continue
            citation = self.hit(hit)
            if citation not in found:
                found.append(citation)
        return found

    # -- figures -------------------------------------------------------------------------------------
    def cited_text(self) -> str:
        return "\n".join(self.g.hits[c.chunk_id].text + "\n" + c.title for c in self.citations)

    def backed(self, text: str, inputs: Iterable[str]) -> bool:
        """True when every figure in `text` appears in `inputs` or in a passage cited here."""
        return not unsupported(text, [*inputs, self.cited_text()])

    def grounded(self, doc_id: str, text: str, inputs: Iterable[str]) -> str | None:
        """`text` once the passages holding it are cited, or None when one of its figures cannot be backed."""
        self.text_of(doc_id, text)
        return text if self.backed(text, inputs) else None

    def unsupported(self, text: str) -> list[str]:
        """Figures of `text` neither the input nor a cited passage holds."""
        return unknown(self.bank, text)

    def _try(self, doc_id: str, text: str) -> None:
        """Retrieve the passage of `doc_id` that `text` comes from; cite it if it backs any of its figures."""
        before = len(self.unsupported(text))
        hit = self.g.passage(doc_id, text)
        if hit is None:
            return
        if len(unknown(number_bank([hit.text, hit.title(self.g.lang)]), text)) < before:
            self.hit(hit)

    def ground(self, doc_id: str, text: str) -> str | None:
        """`text` (taken from `doc_id`) with every figure backed by a cited passage, or None if nothing is left."""
        text = text.strip()
        if not text or not self.unsupported(text):
            return text or None
        self._try(doc_id, text)
        if not self.unsupported(text):
            return text
        kept = []
        for sentence in split_sentences(text):
            if self.unsupported(sentence):
                self._try(doc_id, sentence)
            if not self.unsupported(sentence):
                kept.append(sentence)
        if not kept:
            return None
        joined = _join(kept)
        return joined if not self.unsupported(joined) else None

    def ground_all(self, doc_id: str, texts: list[str]) -> list[str]:
        return [grounded for text in texts if (grounded := self.ground(doc_id, text))]


def _join(sentences: list[str]) -> str:
    text = sentences[0]
    for sentence in sentences[1:]:
        text += ("" if text[-1] in "。！？；”」）" else " ") + sentence
    return text


def similarity(kb: KnowledgeBase, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
    """Cosine similarity (queries x texts) with the retriever's own embedder."""
    if not queries or not texts:
        return np.zeros((len(queries), len(texts)), dtype=np.float32)
    vectors = kb.retriever.store.embedder.encode([*queries, *texts])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    result: np.ndarray = vectors[: len(queries)] @ vectors[len(queries) :].T
    return result


def join_list(items: Sequence[str], lang: str) -> str:
    """ "A、B和C" / "A, B and C"."""
    items = [i for i in items if i]
    if not items:
        return ""
    say = Wording("common", "zh" if lang == "zh" else "en")
    joined = items[0]
    for i, item in enumerate(items[1:], 2):
        joined = say("list.last" if i == len(items) else "list.more", head=joined, item=item)
    return joined


def end_sentence(text: str, lang: str) -> str:
    """`text` with final punctuation in the right script."""
    text = text.strip().rstrip("；;，,、:：")
    if not text:
        return text
    if text[-1] in "。！？.!?":
        return text
    if text[-1] in "”\"」’'" and len(text) > 1 and text[-2] in "。！？.!?":
        return text
    return text + ("。" if lang == "zh" else ".")


def lower_first(text: str, lang: str) -> str:
    """An English sentence continued after a colon: a capitalised ordinary first word goes lower case."""
    if lang == "en" and text:
        first = text.split(" ", 1)[0]
        if first[:1].isupper() and first[1:].replace("-", "").islower() and first.lower() not in _KEEP_CAPITAL:
            return text[0].lower() + text[1:]
    return text


def clause(text: str, lang: str, *, lower: bool = True) -> str:
    """A sentence used inside another one: no final full stop (and, in English, a lower-case first word)."""
    text = text.strip().rstrip("。.；;")
    return lower_first(text, lang) if lower else text


def sources_section(citations: Sequence[Citation], lang: str, level: int = 2) -> str:
    """The "来源 / Sources" list: each cited document once, in citation order, under a heading of `level`."""
    seen: set[str] = set()
    titles: list[str] = []
    for c in citations:
        if c.doc_id not in seen:
            seen.add(c.doc_id)
            titles.append(c.title)
    heading = "#" * level + " " + Wording("common", "zh" if lang == "zh" else "en")("sources_heading")
    return heading + "\n" + "\n".join(f"- {t}" for t in titles) if titles else ""


def closing_parts(rep_notes: Sequence[str], rep_heading: str, citations: Sequence[Citation], lang: str) -> list[str]:
    """The end of a rendered skill result: the rep's notes in their own box, then the sources (each if any)."""
    parts = [rep_notes_block(rep_notes, rep_heading)] if rep_notes else []
    sources = sources_section(citations, lang)
    return [*parts, sources] if sources else parts
