"""What a user's free text must look like before a skill reads it: clean, and within a token budget.

`clean_text` removes what cannot be meant as text: control characters (newlines
and tabs stay), lone surrogates (invalid UTF-16 halves that cannot even be
encoded as UTF-8), Unicode noncharacters, byte-order marks and U+FFFD
replacement characters (the trace of bytes that were not valid text). Emoji,
their joiners and variation selectors, and every script stay as they are.

`cut_to_tokens` keeps the first `max_tokens` tokens (tiktoken, offline
encoding) of a text. BPE on one long unbroken "word" is slow (quadratic in its
length: 100,000 letters take ~0.1 s, 1,000,000 take seconds), so only a window
of the text's start is ever encoded, widened only when it holds too few tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from copilot.text.tokens import get_encoding
from copilot.wording import Wording

_GARBAGE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters except \t \n \r
    "\ud800-\udfff"  # lone surrogates
    "\ufdd0-\ufdef\ufffe\uffff"  # noncharacters
    "\ufeff\ufffd]"  # byte-order mark, replacement character
)
_WINDOW_CHARS_PER_TOKEN = 8
"""Start with a window of this many characters per wanted token (English averages ~4, Chinese ~1)."""


@dataclass(frozen=True)
class Cleaned:
    text: str
    removed: int
    """How many characters were removed as garbage (not counting trimmed whitespace)."""


def clean_text(text: str) -> Cleaned:
    """`text` without control characters, invalid code points and replacement characters, trimmed."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned, removed = _GARBAGE.subn("", unified)
    return Cleaned(cleaned.strip(), removed)


def is_blank(text: str) -> bool:
    """Nothing visible: no text, or only blanks, control and invisible format characters (zero-width spaces…)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in clean_text(text).text)


@dataclass(frozen=True)
class Cut:
    """A text cut to a token budget: what was kept and how much that is of the whole."""

    text: str
    kept_tokens: int
    kept_chars: int
    total_chars: int

    @property
    def was_cut(self) -> bool:
        return self.kept_chars < self.total_chars


def cut_to_tokens(text: str, max_tokens: int, encoding: str = "cl100k_base") -> Cut:
    """The start of `text` holding at most `max_tokens` tokens (the whole text when it fits)."""
    enc = get_encoding(encoding)
    window = max(1, max_tokens) * _WINDOW_CHARS_PER_TOKEN
    while True:
        part = text[:window]
        tokens = enc.encode_ordinary(part)
        if len(tokens) <= max_tokens and window >= len(text):
            return Cut(text, len(tokens), len(text), len(text))
        if len(tokens) > max_tokens:
            break
        window *= 4  # the window held fewer tokens than wanted: very long tokens (runs of one character)
    # A token may end inside a multi-byte character: decode the bytes and drop an incomplete tail.
    limit = max_tokens
    while True:
        kept = enc.decode_bytes(tokens[:limit]).decode("utf-8", errors="ignore").rstrip()
        count = len(enc.encode_ordinary(kept))
        if count <= max_tokens or limit == 0:  # re-encoding the kept text can merge into one more token
            return Cut(kept, count, len(kept), len(text))
        limit -= count - max_tokens


def truncation_message(what_zh: str, what_en: str, cut: Cut, max_tokens: int) -> str:
    """What to tell the user, in both languages, about a text that was cut: how much of it was kept."""
    figures = {
        "kept_tokens": f"{cut.kept_tokens:,}",
        "kept_chars": f"{cut.kept_chars:,}",
        "total_chars": f"{cut.total_chars:,}",
        "max_tokens": f"{max_tokens:,}",
    }
    zh = Wording("limits", "zh")("truncated", what=what_zh, **figures)
    en = Wording("limits", "en")("truncated", what=what_en, **figures)
    return f"{zh} / {en}"


def shorten(text: str, max_chars: int, mark: str = "…") -> str:
    """`text` itself when it has at most `max_chars` characters, else its start and `mark`.

    The cut never splits a word or a number ("1234" never becomes "12"): it backs off to the
    last space, punctuation mark or CJK character.
    """
    if len(text) <= max_chars:
        return text

    def inside_word(end: int) -> bool:
        return text[end - 1].isascii() and text[end - 1].isalnum() and text[end].isalnum()

    end = max_chars
    while end > max_chars // 2 and inside_word(end):
        end -= 1
    if inside_word(end):  # one very long word: no boundary nearby, cut it
        end = max_chars
    return text[:end].rstrip() + mark
