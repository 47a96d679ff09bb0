"""Reading an embedded Chroma store's SQLite file directly, for what Chroma's API makes slow.

Chroma 1.x keeps every chunk's metadata in `embedding_metadata` (one row per key) and
numbers every write in `max_seq_id`. Two read-only queries use that:

- `manifest_rows`: the four fields the indexer compares (doc id, content hash, chunk
  count, file) for every chunk, in one query; through `collection.get` at 100k chunks it
  is 20 paged calls that decode every chunk's whole metadata (~10 s);
- `write_number`: the last write applied to the collection, which changes with every
  upsert or delete (copilot/index/retriever_cache.py keys its snapshot with it too).

Both answer None when the file cannot be read as expected (another Chroma version's
schema, a locked or missing file): callers then go through Chroma as before, so a
change in Chroma's layout costs speed, never correctness. ChunkStore also checks the
manifest's chunk count against Chroma's own count before trusting it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

MANIFEST_KEYS = ("doc_id", "doc_hash", "doc_chunks", "path")


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)


def manifest_rows(path: Path, collection_id: str) -> dict[str, dict[str, Any]] | None:
    """chunk id -> {doc_id, doc_hash, doc_chunks, path} of one collection, or None."""
    try:
        with contextlib.closing(_connect(path)) as db:
            found = db.execute(
                "SELECT e.embedding_id, m.key, m.string_value, m.int_value FROM embeddings e "
                "JOIN segments s ON s.id = e.segment_id AND s.scope = 'METADATA' AND s.collection = ? "
                "JOIN embedding_metadata m ON m.id = e.id "
                f"WHERE m.key IN ({', '.join('?' * len(MANIFEST_KEYS))})",
                (collection_id, *MANIFEST_KEYS),
            ).fetchall()
    except sqlite3.Error:
        return None
    rows: dict[str, dict[str, Any]] = {}
    for chunk_id, key, text, number in found:
        rows.setdefault(str(chunk_id), {})[str(key)] = text if text is not None else number
    return rows


def write_number(path: Path, collection_id: str) -> str | None:
    """The number of the last write applied to the collection's metadata, as text, or None."""
    try:
        with contextlib.closing(_connect(path)) as db:
            found = db.execute(
                "SELECT m.seq_id FROM segments s JOIN max_seq_id m ON m.segment_id = s.id "
                "WHERE s.collection = ? AND s.scope = 'METADATA'",
                (collection_id,),
            ).fetchall()
    except sqlite3.Error:
        return None
    if len(found) != 1:
        return None
    seq = found[0][0]
    return seq.hex() if isinstance(seq, bytes) else str(seq)
