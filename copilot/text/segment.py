"""Tokenisation for BM25: jieba for Chinese, lower-cased words for English.

Both languages go through one function so a mixed query ("PBFT 共识要多久") is
split correctly. Stop words are dropped; numbers are kept (reps search for them).

jieba's dictionary comes in two forms that segment identically: a compact one (~8 MB,
copilot.text.compact_dict), used by default, and jieba's own (~64 MB more, look-ups ~2x faster),
used for bulk work such as indexing a corpus (`bulk=True`).
"""

from __future__ import annotations

import logging
import re
from functools import cache

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-']*|\d+(?:\.\d+)?|[\u3400-\u9fff\uf900-\ufaff]+")

EN_STOP = frozenset(
    """a an and are as at be by can do does for from has have how i if in into is it its of on or our so than that
    the their them then there these they this to was we what when where which who why will with would you your not
    no yes did been were about after before more most any all also only just""".split()
)
ZH_STOP = frozenset(
    """的 了 和 是 在 与 及 或 也 就 都 而 被 把 对 从 到 为 以 之 其 这 那 有 个
    吗 呢 吧 啊 么 什么 怎么 如何 哪些 哪个 多少 几 是否 可以 能 会 要
    我 我们 你 你们 他 她 它 他们""".split()
)

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


def tokenize(text: str, *, bulk: bool = False) -> list[str]:
    """Search tokens of `text`: Chinese words (jieba, search mode) and English words.

    `bulk`: many texts follow (indexing): jieba's full dictionary, faster, same tokens."""
    jieba = _jieba() if bulk else _compact()
    tokens: list[str] = []
    for match in _WORD.finditer(text):
        piece = match.group(0)
        first = piece[0]
        if "\u3400" <= first <= "\u9fff" or "\uf900" <= first <= "\ufaff":
            for word in jieba.cut_for_search(piece):  # type: ignore[attr-defined]
                if word not in ZH_STOP:
                    tokens.append(word)
        else:
            word = piece.lower().strip("-'")
            if word and word not in EN_STOP:
                tokens.append(stem(word))
    return tokens
