"""One chain type, one story: corpus lines that are claims about another chain type are never used as claims.

Glossary entries and playbook lines say which chain types they are true of (`applies_to`: consortium,
public, permissioned or any). For a deal of one chain type, the outcome and example of a glossary entry
that does not apply to it, and every playbook line that does not, are *contradicting lines*: an output
sentence taken from one is left out. A contrast written as one ("unlike a public chain, …") is not a
copy of such a line and stays. The same test counts leakage in the evals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from copilot.corpus.models import AppliesTo, Bilingual, GlossaryEntry, PlaybookEntry
from copilot.text.chunking import split_sentences

MIN_MATCH_CHARS = 10
"""A corpus sentence this long (without spaces and punctuation) found in an output sentence makes it a copy."""
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
SEEN_MAX = 20_000
"""Sentences a LineMatcher remembers the answer for (it is kept per chain type and language while serving)."""


def applies(applies_to: Sequence[AppliesTo] | None, chain_type: str) -> bool:
    return not applies_to or "any" in applies_to or chain_type in applies_to


def _norm(text: str) -> str:
    return _NOISE.sub("", text).lower()


def _lines(value: object) -> Iterable[Bilingual]:
    if isinstance(value, Bilingual):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _lines(item)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _lines(getattr(value, name))


def contradicting_lines(
    glossary: Iterable[GlossaryEntry], playbooks: Iterable[PlaybookEntry], chain_type: str, lang: str
) -> list[str]:
    """The corpus lines (in `lang`) that are claims about another chain type than `chain_type`."""
    out: list[str] = []
    for entry in glossary:
        if not applies(entry.applies_to, chain_type):
            out += [entry.outcome.get(lang), entry.example.get(lang)]
    for playbook in playbooks:
        out += [line.get(lang) for line in _lines(playbook) if not applies(line.applies_to, chain_type)]
    return out


class LineMatcher:
    """Finds output sentences copied from given corpus lines.

    A sentence is a copy when one of the lines' pieces is in it or it is in one of them: both tests are one
    scan each (a pattern of every piece; the pieces joined by a separator no normalised sentence holds),
    and a sentence's answer is remembered (a result repeats its parts' sentences in its rendered text).
    """

    def __init__(self, lines: Iterable[str]) -> None:
        pieces = {_norm(s) for line in lines for s in split_sentences(line)}
        self.pieces = sorted(p for p in pieces if len(p) >= MIN_MATCH_CHARS)
        self._any_piece = re.compile("|".join(map(re.escape, self.pieces))) if self.pieces else None
        self._joined = "\n".join(self.pieces)  # "\n" is noise: never in a normalised sentence
        self._seen: dict[str, bool] = {}

    def copied(self, sentence: str) -> bool:
        norm = _norm(sentence)
        if len(norm) < MIN_MATCH_CHARS or self._any_piece is None:
            return False
        found = self._seen.get(norm)
        if found is None:
            found = norm in self._joined or self._any_piece.search(norm) is not None
            if len(self._seen) >= SEEN_MAX:
                self._seen.clear()
            self._seen[norm] = found
        return found

    def count(self, text: str) -> list[str]:
        """The sentences of `text` copied from the lines."""
        return [s for line in text.split("\n") for s in split_sentences(line) if self.copied(s)]
