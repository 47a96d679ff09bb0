"""Heading-aware, language-aware chunking bounded in tiktoken tokens.

A language section is cut at its headings into blocks; neighbouring blocks are
packed together while they fit in `max_tokens`; a block that is too large is cut
at sentence ends (Chinese 。！？； and English . ! ?), and a sentence that is
still too large is cut at token boundaries. Each chunk remembers the heading it
starts under, so a citation can say where the passage came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.text.tokens import get_encoding

_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
# A sentence ends after Chinese end punctuation (optionally followed by a closing quote or bracket),
# or after . ! ? followed by whitespace; line breaks of list items are boundaries too.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?])[”’」』）)]?|(?<=[.!?])[\"')\]]?(?=\s)|\n+")


@dataclass(frozen=True)
class TextPiece:
    heading: str
    text: str
    tokens: int


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping the end punctuation with its sentence."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _blocks(markdown: str) -> list[tuple[str, str]]:
    """(heading, text including its heading line) for each heading-delimited block."""
    blocks: list[tuple[str, list[str]]] = [("", [])]
    for line in markdown.splitlines():
        match = _HEADING.match(line)
        if match:
            blocks.append((match.group(2), [line]))
        else:
            blocks[-1][1].append(line)
    return [(h, "\n".join(lines).strip()) for h, lines in blocks if "\n".join(lines).strip()]


class Chunker:
    def __init__(self, max_tokens: int = 320, encoding: str = "cl100k_base") -> None:
        if max_tokens < 16:
            raise ValueError("max_tokens must be at least 16")
        self.max_tokens = max_tokens
        self._enc = get_encoding(encoding)

    def count(self, text: str) -> int:
        return len(self._enc.encode(text, disallowed_special=()))

    def _hard_split(self, sentence: str) -> list[str]:
        ids = self._enc.encode(sentence, disallowed_special=())
        pieces = []
        for i in range(0, len(ids), self.max_tokens):
            pieces.append(self._enc.decode(ids[i : i + self.max_tokens]))
        return pieces

    def _split_block(self, text: str) -> list[str]:
        pieces: list[str] = []
        current: list[str] = []
        size = 0
        for sentence in split_sentences(text):
            n = self.count(sentence)
            if n > self.max_tokens:
                if current:
                    pieces.append(_join(current))
                    current, size = [], 0
                pieces.extend(self._hard_split(sentence))
                continue
            if size + n > self.max_tokens and current:
                pieces.append(_join(current))
                current, size = [], 0
            current.append(sentence)
            size += n
        if current:
            pieces.append(_join(current))
        return pieces

    def chunk(self, markdown: str) -> list[TextPiece]:
        """Chunks of one language section, in document order."""
        out: list[TextPiece] = []
        heading = ""
        buffer: list[str] = []
        size = 0

        def flush() -> None:
            nonlocal buffer, size
            if buffer:
                text = "\n\n".join(buffer)
                out.append(TextPiece(heading, text, self.count(text)))
            buffer, size = [], 0

        for block_heading, text in _blocks(markdown):
            n = self.count(text)
            if n > self.max_tokens:
                flush()
                for piece in self._split_block(text):
                    heading = block_heading
                    out.append(TextPiece(block_heading, piece, self.count(piece)))
                continue
            if size + n > self.max_tokens:
                flush()
            if not buffer:
                heading = block_heading
            buffer.append(text)
            size += n + 1
        flush()
        return out


def _join(sentences: list[str]) -> str:
    """Join sentences: no space between Chinese sentences, one space between English ones."""
    text = sentences[0]
    previous = sentences[0]
    for sentence in sentences[1:]:
        if _is_line(previous) or _is_line(sentence):
            sep = "\n"
        elif text[-1] in "。！？；”’」』）":
            sep = ""
        else:
            sep = " "
        text += sep + sentence
        previous = sentence
    return text


def _is_line(sentence: str) -> bool:
    """Headings and list items stand on their own line."""
    return bool(re.match(r"^(#{1,6}\s|[-*+]\s|\d+[.)]\s)", sentence))
