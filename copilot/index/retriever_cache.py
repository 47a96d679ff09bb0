"""The retriever's snapshot (chunk rows + BM25 index) cached on disk, keyed by the store's version.

Opening a Retriever reads every chunk from Chroma and builds BM25 over their
tokens: at 10k chunks most of the time is Chroma's paged get() and the BM25
build (profiled with pyinstrument), and at 100k it takes tens of seconds. The
snapshot only changes when the store does, so it is kept beside the Chroma
directory (NEGO_HOME/index/retriever-cache/KEY/) and reloaded when the key
still matches.

The key must change whenever the store's contents do and be cheap to read.
Chroma has no public version number, but its embedded store numbers every
write (upsert, delete, even of absent ids) and records the last number applied
to the collection's metadata segment in its SQLite file; that number, the
collection id (new after a rebuild) and the chunk count make the key. It is
read before the chunks and again after them, and the snapshot is saved only
when both reads agree, so a write racing with the read is never cached under
the wrong key. When the number cannot be read (a Chroma server, another Chroma
version) there is no cache and the retriever builds the snapshot as before.

Crash safety: a snapshot is written into a temporary directory and renamed
into place in one step; its manifest lists the SHA-256 of every file, checked
on load. A missing, partial or corrupt snapshot is ignored, removed and
rebuilt: the cache can make opening faster, never results different.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from copilot.index.store import ChunkRow, ChunkStore

log = logging.getLogger(__name__)

FORMAT = 3  # 3: lean rows keep their document's titles
CACHE_DIRNAME = "retriever-cache"
MANIFEST = "manifest.json"
ROWS = "rows.json"
BM25_DIR = "bm25"
CHROMA_SQLITE = "chroma.sqlite3"
STALE_TMP_SECONDS = 3600  # a temporary directory this old was left by a crashed writer
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(ChunkRow))
_TOKENS = _ROW_FIELDS.index("tokens")


@dataclass
class Snapshot:
    """What a Retriever searches: the store's rows sorted by chunk id, and BM25 over their tokens."""

    rows: list[ChunkRow]
    bm25: Any | None
    lean: bool = False
    """The rows carry no text, titles, tokens or sources (a large index: fetched per passage on demand),
    and BM25 is memory-mapped from the cache rather than read into memory."""


def build_bm25(rows: list[ChunkRow], tokens: list[list[str]] | None = None) -> Any | None:
    """BM25 over the rows' tokens (or `tokens`, one list per row, for lean rows)."""
    import bm25s

    if not rows:
        return None
    bm25 = bm25s.BM25()
    corpus = tokens if tokens is not None else [r.tokens for r in rows]
    bm25.index([t or ["\u2205"] for t in corpus], show_progress=False)
    return bm25


def membership(values: Iterable[list[str]]) -> dict[str, np.ndarray]:
    """{value: a boolean array, True for the rows whose list holds it} (e.g. the rows of each scenario)."""
    positions: dict[str, list[int]] = {}
    count = 0
    for i, names in enumerate(values):
        count = i + 1
        for name in names:
            positions.setdefault(name, []).append(i)
    columns = {}
    for name, where in positions.items():
        column = np.zeros(count, dtype=bool)
        column[where] = True
        columns[name] = column
    return columns


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SnapshotCache:
    """Snapshots of one store under `directory`, one subdirectory per key; only the newest is kept."""

    def __init__(self, directory: Path, sqlite_path: Path) -> None:
        self.directory = directory
        self.sqlite_path = sqlite_path

    @classmethod
    def for_store(cls, store: ChunkStore) -> SnapshotCache | None:
        """The cache beside an embedded store's Chroma directory; None for a Chroma server."""
        chroma_dir = Path(store.location)
        sqlite_path = chroma_dir / CHROMA_SQLITE
        if not sqlite_path.is_file():
            return None
        return cls(chroma_dir.parent / CACHE_DIRNAME, sqlite_path)

    # -- the key -----------------------------------------------------------------------------------
    def key(self, store: ChunkStore) -> str | None:
        """A key that changes whenever the store's chunks change; None when it cannot be read."""
        try:
            collection_id = str(store.collection.id)
            count = store.count()
            with contextlib.closing(
                sqlite3.connect(f"{self.sqlite_path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
            ) as db:
                found = db.execute(
                    "SELECT m.seq_id FROM segments s JOIN max_seq_id m ON m.segment_id = s.id "
                    "WHERE s.collection = ? AND s.scope = 'METADATA'",
                    (collection_id,),
                ).fetchall()
        except Exception as exc:  # sqlite3.Error, a changed schema, a store gone: no cache, never a wrong one
            log.debug("retriever cache disabled: cannot read the store's version: %s", exc)
            return None
        if len(found) != 1:
            return None
        import bm25s

        seq = found[0][0]
        seq_text = seq.hex() if isinstance(seq, bytes) else str(seq)
        parts = [str(FORMAT), getattr(bm25s, "__version__", "?"), ",".join(_ROW_FIELDS)]
        parts += [collection_id, str(count), seq_text]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    # -- reading -----------------------------------------------------------------------------------
    def load(self, key: str) -> Snapshot | None:
        """The snapshot saved under `key`, or None (absent, partial or corrupt: a corrupt one is removed)."""
        path = self.directory / key
        if not path.is_dir():
            return None
        try:
            return self._read(path, key)
        except Exception as exc:  # any damage at all: ignore it and rebuild
            log.warning("ignoring a damaged retriever cache at %s: %s", path, exc)
            shutil.rmtree(path, ignore_errors=True)
            return None

    @staticmethod
    def _read(path: Path, key: str) -> Snapshot:
        import bm25s

        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            raise ValueError("manifest does not match")
        files: dict[str, str] = manifest["files"]
        for name, digest in files.items():
            if _sha256(path / name) != digest:
                raise ValueError(f"{name}: checksum mismatch")
        lean = bool(manifest.get("lean"))
        data = json.loads((path / ROWS).read_text(encoding="utf-8"))
        if tuple(data["fields"]) != _ROW_FIELDS:
            raise ValueError("row fields changed")
        rows = []
        for values in data["rows"]:
            row = ChunkRow(*values)
            row.tokens = values[_TOKENS].split()  # stored joined: parsing one string is 3x faster than a list
            if lean:  # one title string per document, as when read from the store
                row.title_zh, row.title_en = sys.intern(row.title_zh), sys.intern(row.title_en)
            rows.append(row)
        bm25 = None
        if rows:
            bm25 = bm25s.BM25.load(str(path / BM25_DIR), mmap=lean, allow_pickle=False, show_progress=False)
            if int(bm25.scores["num_docs"]) != len(rows):
                raise ValueError("BM25 index and rows disagree")
        return Snapshot(rows, bm25, lean)

    # -- writing -----------------------------------------------------------------------------------
    def save(self, key: str, snapshot: Snapshot) -> None:
        """Write the snapshot under `key` (atomically) and drop older ones; failures only cost speed."""
        tmp = self.directory / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir(parents=True)
            rows = [[getattr(r, name) for name in _ROW_FIELDS] for r in snapshot.rows]
            for values in rows:
                values[_TOKENS] = " ".join(values[_TOKENS])  # tokens never hold whitespace (the store joins them too)
            (tmp / ROWS).write_text(
                json.dumps({"fields": _ROW_FIELDS, "rows": rows}, ensure_ascii=False), encoding="utf-8"
            )
            if snapshot.bm25 is not None:
                snapshot.bm25.save(str(tmp / BM25_DIR), show_progress=False)
            files = {p.relative_to(tmp).as_posix(): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
            manifest = {
                "format": FORMAT,
                "key": key,
                "chunks": len(snapshot.rows),
                "lean": snapshot.lean,
                "files": files,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            try:
                tmp.rename(self.directory / key)
            except OSError:  # another process saved the same key first: theirs is as good
                shutil.rmtree(tmp, ignore_errors=True)
        except Exception as exc:  # a full disk or a read-only home: the next open rebuilds
            log.warning("cannot save the retriever cache in %s: %s", self.directory, exc)
            shutil.rmtree(tmp, ignore_errors=True)
            return
        with contextlib.suppress(OSError):
            self._prune(keep=key)

    def _prune(self, keep: str) -> None:
        """Remove older snapshots and temporary directories left by crashed writers."""
        now = time.time()
        for entry in self.directory.iterdir():
            if entry.name == keep:
                continue
            if entry.name.startswith(".tmp-"):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime < STALE_TMP_SECONDS:
                        continue  # perhaps being written right now
            shutil.rmtree(entry, ignore_errors=True)
