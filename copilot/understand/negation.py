"""Clause-level negation: which clauses of a text deny what they say.

Embeddings place "a trusted party runs it" and "no party everyone trusts could run it" close
together; the classifier needs to know that one of them is negated. A text is split into clauses
(punctuation and contrast words), and a clause is negated when it holds an odd number of negation
markers. Markers, exceptions and clause breaks are data (data/negation.yaml), in both languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "negation.yaml"
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Clause:
    text: str
    negated: bool


@dataclass(frozen=True)
class NegationRules:
    breaks: re.Pattern[str]
    zh_markers: tuple[str, ...]
    en_marker: re.Pattern[str]
    exceptions: re.Pattern[str]

    @classmethod
    def load(cls, path: Path = DATA) -> NegationRules:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        breaks = [*data["clause_breaks"]["zh"], *data["clause_breaks"]["en"]]
        en = data["markers"]["en"]
        words = [re.escape(m) for m in en if not m.startswith("n'")]
        en_pattern = r"\b(?:" + "|".join(words) + r")\b|n't\b"
        exceptions = sorted([*data["not_negation"]["zh"], *data["not_negation"]["en"]], key=len, reverse=True)
        return cls(
            breaks=re.compile("|".join(re.escape(b) for b in sorted(breaks, key=len, reverse=True)), re.IGNORECASE),
            zh_markers=tuple(data["markers"]["zh"]),
            en_marker=re.compile(en_pattern, re.IGNORECASE),
            exceptions=re.compile("|".join(re.escape(e) for e in exceptions), re.IGNORECASE),
        )

    def count(self, clause: str) -> int:
        text = self.exceptions.sub(" ", clause)
        zh = sum(1 for ch in text if ch in self.zh_markers and _CJK.match(ch)) if _CJK.search(text) else 0
        return zh + len(self.en_marker.findall(text))

    def clauses(self, text: str) -> list[Clause]:
        parts = [p.strip() for p in self.breaks.split(text)]
        return [Clause(p, self.count(p) % 2 == 1) for p in parts if p]

    def negated(self, text: str) -> bool:
        """True when any clause of `text` is negated."""
        return any(c.negated for c in self.clauses(text))


@cache
def rules() -> NegationRules:
    return NegationRules.load()
