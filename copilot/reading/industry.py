"""Adapting a playbook's industry wording to the buyer's industry.

Each scenario playbook is written for one industry (data/playbook_industries.yaml): the traceability
playbook speaks of 种植户 and 施肥 (fresh produce). For a deal in another industry:
- when the deal's industry matched a lexicon, each of the playbook industry's terms (actors, goods,
  documents, places, events) is swapped for the closest term of the same part in the deal's lexicon:
  closest by meaning (the multilingual embedder over both languages of each term) with the position
  in chain order as a tie-breaker (种植户 -> 牧场, growers -> dairy farms);
- when the deal names an industry no lexicon matches, sentences using the playbook industry's terms
  are left out rather than shown with the wrong industry;
- a deal in the playbook's own industry, or with no industry, keeps the playbook's wording.
Customer-facing text only: citations (quotes and titles of passages) are never changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml
from pydantic import BaseModel

from copilot.corpus.lexicons import IndustryLexicon
from copilot.reading.chains import LineMatcher
from copilot.text.chunking import split_sentences

Encode = Callable[[list[str]], np.ndarray]
PLAYBOOK_INDUSTRIES = Path(__file__).resolve().parent / "data" / "playbook_industries.yaml"
POSITION_WEIGHT = 0.1
SWAPPED_PARTS = ("actors", "documents", "places", "events")
"""Goods are not swapped: a playbook's goods are mostly named in facts ("Walmart's leafy greens")."""
"""How much the same place in chain order counts against closeness in meaning when pairing terms."""
GENERIC_MIN_LEXICONS = 3
"""A term in this many industry lexicons is generic (consumers, cold stores, recall) and is never swapped; one in
two (farms: fresh produce and dairy) is still industry wording, wrong in a pharma deal."""
FACT_DATE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
"""A year: the sentence reports a dated fact of a cited passage."""
KEEP_FIELDS = {"citations", "customer", "objection", "question", "quote", "sources", "doc_id", "chunk_id", "usage"}
KEEP_FIELDS |= {"architecture", "key", "answer", "evidence", "verdict"}  # the fit check's decided values, deal quotes
M = TypeVar("M", bound=BaseModel)


@cache
def playbook_industries() -> dict[str, str]:
    return dict(yaml.safe_load(PLAYBOOK_INDUSTRIES.read_text(encoding="utf-8")))


def _pair(home: list[str], target: list[str], sims: np.ndarray | None) -> list[int]:
    """For each home term, the index of the target term it becomes."""
    out = []
    for i in range(len(home)):
        rel = i / max(len(home) - 1, 1)
        best, best_score = 0, -1e9
        for j in range(len(target)):
            closeness = 1 - abs(rel - j / max(len(target) - 1, 1))
            score = (float(sims[i, j]) if sims is not None else 0.0) + POSITION_WEIGHT * closeness
            if score > best_score:
                best, best_score = j, score
        out.append(best)
    return out


def swaps(
    home: IndustryLexicon, target: IndustryLexicon, encode: Encode | None, shared: frozenset[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """{lang: {home term: target term}} over the swapped parts both lexicons have; `shared` terms (in several
    lexicons: consumers, transport…) are not industry wording and stay."""
    out: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
    for part in SWAPPED_PARTS:
        h, t = home.part(part), target.part(part)
        if not h or not t:
            continue
        sims = None
        if encode is not None:
            vectors = encode([f"{x.zh} {x.en}" for x in [*h, *t]])
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
            sims = vectors[: len(h)] @ vectors[len(h) :].T
        for i, j in enumerate(_pair([x.en for x in h], [x.en for x in t], sims)):
            for lang in ("zh", "en"):
                src, dst = h[i].get(lang), t[j].get(lang)
                if src != dst and src not in target.terms(lang) and src not in shared:
                    out[lang].setdefault(src, dst)
    return out


def drop_terms(home: IndustryLexicon) -> dict[str, list[str]]:
    return {lang: home.terms(lang) for lang in ("zh", "en")}


def _variants(term: str, lang: str) -> list[str]:
    """An English plural also matches its singular ("growers" and "grower")."""
    if lang == "en" and term.endswith("s") and not term.endswith("ss"):
        return [term, term[:-1]]
    return [term]


def _pattern(terms: Sequence[str], lang: str) -> re.Pattern[str] | None:
    forms = sorted({v for t in terms for v in _variants(t, lang)}, key=len, reverse=True)
    if not forms:
        return None
    body = "|".join(re.escape(f) for f in forms)
    if lang == "en":
        return re.compile(rf"(?<![A-Za-z])({body})(?![A-Za-z])", re.IGNORECASE)
    return re.compile(f"({body})")


def _singular(phrase: str) -> str:
    """The singular of an English noun phrase: its head noun (before "of", else the last word) made singular."""
    head, sep, tail = phrase.partition(" of ")
    words = head.split(" ")
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("sses", "shes", "ches", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "is", "us")):
        last = last[:-1]
    return " ".join([*words[:-1], last]) + sep + tail


class Adapter:
    """Swaps (or drops) one playbook industry's wording in text of one language."""

    def __init__(
        self,
        lang: str,
        mapping: dict[str, str] | None = None,
        drop: Sequence[str] = (),
        lines: LineMatcher | None = None,
        protect: Sequence[str] = (),
    ) -> None:
        """`lines`: corpus lines whose copies are left out too (claims about another chain type); `protect`: the
        buyer's own words (pains, goals…), never changed."""
        self.lang = lang
        self.lines = lines
        self.protect = sorted({p for p in protect if p.strip()}, key=len, reverse=True)
        self.mapping = {k.lower() if lang == "en" else k: v for k, v in (mapping or {}).items()}
        singulars = {}
        if lang == "en":
            for k, v in list(self.mapping.items()):
                if k.endswith("s") and not k.endswith("ss"):
                    singulars[k[:-1]] = _singular(v)
        self.mapping.update({k: v for k, v in singulars.items() if k not in self.mapping})
        self.swap_re = _pattern(list(self.mapping), lang)
        self.drop_re = _pattern(list(drop), lang)
        self.dropping = self.drop_re is not None or bool(lines and lines.pieces)
        self._lines_seen: dict[str, str | None] = {}

    @property
    def active(self) -> bool:
        return self.swap_re is not None or self.drop_re is not None or bool(self.lines and self.lines.pieces)

    def _dropped(self, sentence: str) -> bool:
        if self.drop_re is not None and self.drop_re.search(sentence):
            return True
        return self.lines is not None and self.lines.copied(sentence)

    def _swap(self, match: re.Match[str]) -> str:
        found = match.group(1)
        key = found.lower() if self.lang == "en" else found
        new = self.mapping.get(key, found)
        return new[:1].upper() + new[1:] if found[:1].isupper() and self.lang == "en" else new

    def _swap_sentences(self, text: str) -> str:
        """Swaps in sentences without a year: a sentence with a date states a fact of a cited passage (a case's
        growers stay growers); playbook lines ("≥ 2 partners: grower co-operatives…") are swapped."""
        assert self.swap_re is not None
        out_lines = []
        for line in text.split("\n"):
            if not self.swap_re.search(line):
                out_lines.append(line)
                continue
            pieces = re.split(r"(?<=[。！？；!?;])|(?<=[.!?;] )", line)
            out_lines.append("".join(p if FACT_DATE.search(p) else self._swap_unprotected(p) for p in pieces))
        return "\n".join(out_lines)

    def _swap_unprotected(self, text: str) -> str:
        assert self.swap_re is not None
        lowered = text.lower()
        if not any(p.lower() in lowered for p in self.protect):
            return self.swap_re.sub(self._swap, text)
        pattern = "(" + "|".join(re.escape(p) for p in self.protect) + ")"
        parts = re.split(pattern, text, flags=re.IGNORECASE)
        return "".join(part if i % 2 else self.swap_re.sub(self._swap, part) for i, part in enumerate(parts))

    def text(self, text: str) -> str:
        """`text` adapted line by line (each line's result remembered: a result's rendered text repeats the
        lines of its fields, and a brief the texts of its parts)."""
        if self.swap_re is None and not self.dropping:
            return text
        kept = (self._line(line) for line in text.split("\n"))
        return "\n".join(line for line in kept if line is not None)

    def _line(self, line: str) -> str | None:
        """One line adapted; None: every sentence of it is left out."""
        if line in self._lines_seen:
            return self._lines_seen[line]
        swapped = self._swap_sentences(line) if self.swap_re is not None else line
        adapted: str | None = swapped
        if self.dropping:
            sentences = split_sentences(swapped)
            if any(self._dropped(s) for s in sentences):
                kept = [s for s in sentences if not self._dropped(s)]
                adapted = None
                if kept:
                    prefix = re.match(r"\s*(?:[-*>]|\d+\.)\s+", swapped)
                    joined = ("" if self.lang == "zh" else " ").join(kept)
                    adapted = (
                        prefix.group(0) if prefix and not joined.startswith(prefix.group(0).strip()) else ""
                    ) + joined
        self._lines_seen[line] = adapted
        return adapted

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            adapted = [self.value(v) for v in value]
            kept = [v for v in adapted if not (isinstance(v, str) and not v.strip())]
            return kept if kept or not value else adapted
        if isinstance(value, BaseModel):
            return self.model(value)
        return value

    def model(self, result: M) -> M:
        """`result` with every customer-facing text adapted (citations, names and quoted input untouched)."""
        update = {
            name: self.value(getattr(result, name)) for name in type(result).model_fields if name not in KEEP_FIELDS
        }
        return result.model_copy(update=update)


def industry_wording(
    scenario: str,
    industry_text: str | None,
    matched: IndustryLexicon | None,
    lexicons: Sequence[IndustryLexicon],
    encode: Encode | None = None,
) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    """(swaps, drops) for a deal: swap to `matched`; drop when its industry matched nothing; else neither."""
    home_key = playbook_industries().get(scenario)
    home = next((lex for lex in lexicons if lex.key == home_key), None)
    if home is None or not industry_text or (matched is not None and matched.key == home.key):
        return {}, {}
    if matched is None:
        return {}, drop_terms(home)
    counts = Counter(t for lex in lexicons for lang in ("zh", "en") for t in set(lex.terms(lang)))
    return swaps(home, matched, encode, frozenset(t for t, n in counts.items() if n >= GENERIC_MIN_LEXICONS)), {}
