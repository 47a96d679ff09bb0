"""jieba's word dictionary in ~7 MB instead of ~71 MB, with the very same segmentation.

jieba keeps its dictionary as a Python dict of every word and every prefix of a word (~580k str keys,
measured: a process grows from 77 to 148 MB RSS on its first tokenize). A serving process only ever
asks that dict three things: is this fragment a word or a prefix (`in`), and a fragment's frequency
(`[]`, `.get`). `CompactFreq` answers them from two sorted arrays, one 64-bit hash of each key and
the frequency stored for it, built straight from jieba's dict.txt without ever holding the dict; a
bisection (C code, ~1 µs) replaces the dict look-up (~0.05 µs), which matters only when tokenizing a
whole corpus: `copilot.text.segment` keeps jieba's own dict for that.

Equality with jieba's dict is exact except for two different strings with the same 64-bit hash
(probability ~1e-8 for the whole dictionary; keys are never compared). Frequencies follow
`jieba.Tokenizer.gen_pfdict`: a word's frequency is its last line's, a prefix that is not itself a word
has frequency 0, and the total is the sum of every line's frequency.
"""

from __future__ import annotations

import contextlib
import ctypes
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from math import log
from pathlib import Path
from typing import Any

import numpy as np


def _key(text: str) -> int:
    """A 64-bit hash of `text` that tells strings apart by length too: CPython hashes a string's internal
    bytes, so "BP" (one byte a character) and "偂" (two bytes, 0x5042) would otherwise share one hash."""
    return hash((text, len(text)))


class CompactFreq:
    """A read-only stand-in for `jieba.Tokenizer.FREQ` (`in`, `[]`, `.get`)."""

    def __init__(self, hashes: array[int], freqs: array[int], total: int) -> None:
        self._hashes = hashes
        self._freqs = freqs
        self._n = len(hashes)
        self.total = total

    @classmethod
    def from_dict_file(cls, path: Path) -> CompactFreq:
        """Read jieba's dict.txt ("word freq [tag]" per line) into sorted hash and frequency arrays.

        Two passes over the file (count, then fill arrays allocated once): holding the lines, or growing
        the arrays, left ~20 MB of freed memory that the allocator kept."""
        size = sum(len(word) for word, _ in _dict_lines(path))
        keys = np.empty(size, dtype=np.int64)
        values = np.empty(size, dtype=np.int64)  # -1 for a prefix: 0 unless the same string is also a word
        at = total = 0
        for word, freq in _dict_lines(path):
            total += freq
            for end in range(1, len(word) + 1):
                keys[at] = _key(word[:end])
                values[at] = -1 if end < len(word) else freq
                at += 1
        order = np.argsort(keys, kind="stable")  # within one key, file order
        keys, values = keys[order], values[order]
        del order
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        # the last word line of each key (a repeated word keeps its last frequency), else a prefix: 0
        last_word = np.maximum.reduceat(np.where(values >= 0, np.arange(size), -1), starts)
        chosen = np.where(last_word >= 0, values[np.maximum(last_word, 0)], 0)
        compact = cls(array("q", keys[starts].tobytes()), array("q", chosen.tobytes()), total)
        del keys, values, starts, last_word, chosen
        _release_freed_memory()
        return compact

    def _find(self, key: str) -> int:
        h = _key(key)
        i = bisect_left(self._hashes, h)
        return i if i < self._n and self._hashes[i] == h else -1

    def freq(self, key: str) -> int:
        """The key's frequency; -1 when it is neither a word nor a prefix of one (one look-up for both)."""
        h = hash((key, len(key)))  # _key, inlined: this is the hot path of segmentation
        i = bisect_left(self._hashes, h)
        return self._freqs[i] if i < self._n and self._hashes[i] == h else -1

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) >= 0

    def __getitem__(self, key: str) -> int:
        i = self._find(key)
        if i < 0:
            raise KeyError(key)
        return self._freqs[i]

    def get(self, key: str, default: Any = None) -> Any:
        i = self._find(key)
        return self._freqs[i] if i >= 0 else default

    def __len__(self) -> int:
        return self._n


def _release_freed_memory() -> None:
    """Give the build's freed temporaries back to the system (glibc keeps ~20 MB of them otherwise:
    the arrays kept are allocated last, above them). Elsewhere than glibc there is nothing to do."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _dict_lines(path: Path) -> Iterator[tuple[str, int]]:
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, 1):
            parts = line.strip().split(" ")
            if len(parts) < 2 or not parts[1].isdigit():
                raise ValueError(f"{path}:{lineno}: a jieba dictionary line is 'word frequency [tag]'")
            yield parts[0], int(parts[1])


def compact_tokenizer() -> Any:
    """A `jieba.Tokenizer` over the default dictionary whose FREQ is a `CompactFreq` (its HMM as usual)."""
    import jieba

    class CompactTokenizer(jieba.Tokenizer):  # type: ignore[misc]
        def get_DAG(self, sentence: str) -> dict[int, list[int]]:
            """jieba's DAG (each start: the ends of the words starting there) with one look-up per fragment."""
            freq = self.FREQ.freq
            dag: dict[int, list[int]] = {}
            n = len(sentence)
            for k in range(n):
                ends = []
                i = k
                found = freq(sentence[k])
                while found >= 0:
                    if found:
                        ends.append(i)
                    i += 1
                    if i >= n:
                        break
                    found = freq(sentence[k : i + 1])
                dag[k] = ends or [k]
            return dag

        def calc(self, sentence: str, dag: dict[int, list[int]], route: dict[int, tuple[float, int]]) -> None:
            """jieba's best path (same arithmetic, so the same floats), with one look-up per word."""
            freq = self.FREQ.freq
            n = len(sentence)
            route[n] = (0, 0)
            logtotal = log(self.total)
            for idx in range(n - 1, -1, -1):
                best: tuple[float, int] | None = None
                for x in dag[idx]:
                    f = freq(sentence[idx : x + 1])
                    candidate = (log(f if f > 0 else 1) - logtotal + route[x + 1][0], x)
                    if best is None or candidate > best:
                        best = candidate
                assert best is not None  # every start has at least one end
                route[idx] = best

    tokenizer = CompactTokenizer()
    freq = CompactFreq.from_dict_file(Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME)
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, freq.total, True
    return tokenizer
