"""Language detection for zh / en: the share of CJK characters among letters decides."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def cjk_ratio(text: str) -> float:
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    total = cjk + latin_words * 2  # an English word carries about as much as two Chinese characters
    return cjk / total if total else 0.0


def detect_language(text: str, default: str = "en") -> str:
    """'zh' when Chinese dominates, 'en' when Latin text does, `default` when there is neither."""
    if not _CJK.search(text) and not _LATIN.search(text):
        return default
    return "zh" if cjk_ratio(text) >= 0.3 else "en"


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None
