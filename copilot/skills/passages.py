"""Helpers the offline skills share for working with retrieved passages.

Offline skills compose their text from corpus fields (a glossary outcome, a
playbook answer, a case's measured outcome). Every such piece must be backed by
a passage retrieved and cited for this request, and a field may be split across
chunks, so `Cited.text_of` cites, sentence by sentence, the chunk that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from copilot.grounding import Grounding
from copilot.index.models import Hit
from copilot.knowledge import KnowledgeBase
from copilot.results import Citation
from copilot.skills.figures import unsupported
from copilot.text.chunking import split_sentences

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
    """The citations one skill makes through a (possibly shared) Grounding, in the order it made them.

    A brief runs several skills on one Grounding; each result lists only the
    passages that back its own text.
    """

    def __init__(self, g: Grounding) -> None:
        self.g = g
        self.citations: list[Citation] = []

    def add(self, citation: Citation) -> Citation:
        if all(c.chunk_id != citation.chunk_id for c in self.citations):
            self.citations.append(citation)
        return citation

    def hit(self, hit: Hit) -> Citation:
        return self.add(self.g.cite(hit))

    def doc(self, doc_id: str, query: str) -> Citation | None:
        citation = self.g.cite_doc(doc_id, query)
        return self.add(citation) if citation is not None else None

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

    def cited_text(self) -> str:
        return "\n".join(self.g.hits[c.chunk_id].text + "\n" + c.title for c in self.citations)

    def backed(self, text: str, inputs: Iterable[str]) -> bool:
        """True when every figure in `text` appears in `inputs` or in a passage cited here."""
        return not unsupported(text, [*inputs, self.cited_text()])

    def grounded(self, doc_id: str, text: str, inputs: Iterable[str]) -> str | None:
        """`text` once the passages holding it are cited, or None when one of its figures cannot be backed."""
        self.text_of(doc_id, text)
        return text if self.backed(text, inputs) else None


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
    if len(items) == 1:
        return items[0]
    if lang == "zh":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


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
    heading = "#" * level + (" 来源" if lang == "zh" else " Sources")
    return heading + "\n" + "\n".join(f"- {t}" for t in titles) if titles else ""
