"""Tokenisation for BM25: jieba for Chinese, lower-cased words for English.

Both languages go through one function so a mixed query ("PBFT 共识要多久") is
split correctly. Stop words (data/stopwords.yaml) are dropped; numbers are kept (reps search for them).

jieba's dictionary comes in two forms that segment identically: a compact one (~8 MB,
copilot.text.compact_dict), used by default, and jieba's own (~64 MB more, look-ups ~2x faster),
used for bulk work such as indexing a corpus (`bulk=True`).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

import yaml

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-']*|\d+(?:\.\d+)?|[\u3400-\u9fff\uf900-\ufaff]+")

STOP_WORDS = Path(__file__).resolve().parent / "data" / "stopwords.yaml"


@cache
def stop_words(path: Path = STOP_WORDS) -> tuple[frozenset[str], frozenset[str]]:
    """(English, Chinese) stop words of `path` (data/stopwords.yaml), read once."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(data["en"].split()), frozenset(data["zh"].split())


_SUFFIXES = (
    ("isations", ""),
    ("izations", ""),
    ("isation", ""),
    ("ization", ""),
    ("ations", ""),
    ("ation", ""),
    ("ments", ""),
    ("ment", ""),
    ("ings", ""),
    ("ing", ""),
    ("ables", ""),
    ("able", ""),
    ("ibles", ""),
    ("ible", ""),
    ("ions", ""),
    ("ion", ""),
    ("ies", "y"),
    ("ers", ""),
    ("er", ""),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
    ("ly", ""),
)


def stem(word: str) -> str:
    """A light, deterministic English suffix stripper (deletion, deleted, deletable -> delet)."""
    if word.isdigit() or len(word) <= 4:
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + replacement
    return word


@cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@cache
def _compact() -> object:
    from copilot.text.compact_dict import compact_tokenizer

    return compact_tokenizer()


def compact_loaded() -> bool:
    """The compact dictionary is loaded already (this process serves queries)."""
    return _compact.cache_info().currsize > 0


def tokenize(text: str, *, bulk: bool = False) -> list[str]:
    """Search tokens of `text`: Chinese words (jieba, search mode) and English words.

    `bulk`: many texts follow (indexing): jieba's full dictionary, faster, same tokens."""
    jieba = _jieba() if bulk else _compact()
    en_stop, zh_stop = stop_words()
    tokens: list[str] = []
    for match in _WORD.finditer(text):
        piece = match.group(0)
        first = piece[0]
        if "\u3400" <= first <= "\u9fff" or "\uf900" <= first <= "\ufaff":
            for word in jieba.cut_for_search(piece):  # type: ignore[attr-defined]
                if word not in zh_stop:
                    tokens.append(word)
        else:
            word = piece.lower().strip("-'")
            if word and word not in en_stop:
                tokens.append(stem(word))
    return tokens
