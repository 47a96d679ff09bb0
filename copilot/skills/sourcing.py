"""Corpus text a skill may show: every figure in it is backed by a cited passage.

Offline skills compose their output from corpus entries (risk descriptions,
playbook KPIs…). Such a piece of text may contain figures; the product rule is
that every figure shown appears in the user's input or in a passage the result
cites. `Sourcer` keeps the figures of the input and of every passage cited so
far, and `ground()` retrieves (through the request's `Grounding`) the passage a
piece of text comes from, citing it when it backs the piece's figures. A
sentence whose figures no retrieved passage backs is left out rather than shown
unsupported, so the rule holds even when retrieval misses.
"""

from __future__ import annotations

from copilot.grounding import Grounding
from copilot.index.models import Hit
from copilot.results import Citation
from copilot.skills.figures import number_bank, unknown
from copilot.text.chunking import split_sentences


class Sourcer:
    def __init__(self, g: Grounding, input_text: str) -> None:
        self.g = g
        self.bank = number_bank([input_text])
        self.citations: list[Citation] = []

    def _add(self, hit: Hit) -> None:
        extra = number_bank([hit.text, hit.title(self.g.lang)])
        self.bank.values |= extra.values
        self.bank.dates |= extra.dates

    def cite(self, hit: Hit) -> Citation:
        """Cite a retrieved passage for this result (once), and accept its figures from now on."""
        citation = self.g.cite(hit)
        if all(c.chunk_id != citation.chunk_id for c in self.citations):
            self._add(hit)
            self.citations.append(citation)
        return citation

    def cite_doc(self, doc_id: str, query: str) -> Citation | None:
        hit = self.g.passage(doc_id, query)
        return self.cite(hit) if hit is not None else None

    def unsupported(self, text: str) -> list[str]:
        return unknown(self.bank, text)

    def _try(self, doc_id: str, text: str) -> None:
        """Retrieve the passage of `doc_id` that `text` comes from; cite it if it backs any of its figures."""
        before = len(self.unsupported(text))
        hit = self.g.passage(doc_id, text)
        if hit is None:
            return
        if len(unknown(number_bank([hit.text, hit.title(self.g.lang)]), text)) < before:
            self.cite(hit)

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
        out = []
        for text in texts:
            grounded = self.ground(doc_id, text)
            if grounded:
                out.append(grounded)
        return out


def _join(sentences: list[str]) -> str:
    text = sentences[0]
    for sentence in sentences[1:]:
        text += ("" if text[-1] in "。！？；”」）" else " ") + sentence
    return text
