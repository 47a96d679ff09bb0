"""Checks on the embedded Chroma directory before Chroma reads it, and moving a damaged one aside.

Why this exists: Chroma's vector segment (an hnswlib index in four files) is
written in place, header first, with no fsync and no rename. A process killed
while it writes (`kill -9`, a crash, a full disk) leaves a header that promises
more than the other files hold, or a link list whose length field is garbage.
Chroma's native loader does not check either: the next process that opens the
store crashes with a segmentation fault or a heap-corruption abort (no Python
exception, so no message), and a writer that opens it grows `link_lists.bin`
without bound (chroma-core/chroma#7238, #7510; reproduced here by killing an
indexer mid-write). So before Chroma touches the files, their structure is
checked against the header, which costs a few milliseconds per thousand
vectors; what fails is reported as damaged, and `nego index` moves the
directory aside (never deletes it) and builds a new one.

The format (chroma-core/hnswlib, `persistHeader`, `persistDirty`, `loadLinkLists`):

- header.bin: int32 version (1), then offsetLevel0, max_elements, cur_element_count,
  size_data_per_element, label_offset, offsetData (size_t each), int32 maxlevel,
  uint32 enterpoint, maxM, maxM0, M (size_t), double mult, size_t ef_construction: 100 bytes.
- data_level0.bin: one record of size_data_per_element per element: the level-0 link
  list (a count in the low 16 bits of a uint32, then maxM0 uint32 neighbour ids), the
  vector, the uint64 label.
- length.bin: one float32 per element.
- link_lists.bin: per element, a uint32 byte size (level x (maxM*4 + 4)), then that many
  bytes: one link list (count, then maxM ids) per upper level.
- index_metadata.pickle: Chroma's id <-> label maps, written after the index files.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

Kind = Literal["damaged", "permission", "busy"]

HEADER = struct.Struct("<i6QiI3QdQ")
PERSISTENCE_VERSION = 1
MAX_LEVEL = 64  # levels grow with log(n)/log(M): 64 is far beyond any real index
SQLITE_NAME = "chroma.sqlite3"
SEGMENT_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin")
WRITE_SETTLE_S = 2.0
"""A file changed this recently may be mid-write by another process: look again before calling it damaged."""


@dataclass(eq=False)
class StoreProblem(Exception):
    """Why the store directory cannot be opened: what kind of problem, where, and in a few words what."""

    kind: Kind
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def check_store_dir(root: Path) -> None:
    """Raise StoreProblem if the Chroma directory `root` cannot be opened safely; do nothing if it is absent.

    A problem seen while another process is writing the files (they change between two looks)
    is reported as `busy`, not `damaged`, so a store being indexed is never moved aside.
    """
    try:
        _check_once(root)
    except StoreProblem as first:
        if first.kind != "damaged" or not _recently_written(root):
            raise
        before = _signature(root)
        time.sleep(WRITE_SETTLE_S)
        if _signature(root) != before:
            raise StoreProblem("busy", root, "another process is writing it") from first
        _check_once(root)


def _check_once(root: Path) -> None:
    try:
        _check_tree(root)
    except OSError as exc:  # e.g. a folder on the way that cannot be entered
        raise _os_problem(Path(exc.filename) if exc.filename else root, exc) from exc


def _check_tree(root: Path) -> None:
    for path in (root.parent, root):
        if path.exists() and not path.is_dir():
            raise StoreProblem("damaged", path, "is a file, not a folder")
    if not root.exists():
        return
    _check_access(root)
    sqlite = root / SQLITE_NAME
    if sqlite.exists():
        _check_access(sqlite)
    for segment in sorted(p for p in root.iterdir() if p.is_dir()):
        _check_access(segment)
        _check_segment(segment)


def _check_access(path: Path) -> None:
    """Chroma needs to read and write every file (it writes even to answer a query)."""
    mode = os.R_OK | os.W_OK | (os.X_OK if path.is_dir() else 0)
    if not os.access(path, mode):
        raise StoreProblem("permission", path, "permission denied")
    if path.is_dir():
        for child in path.iterdir():
            if child.is_file() and not os.access(child, os.R_OK | os.W_OK):
                raise StoreProblem("permission", child, "permission denied")


def _check_segment(segment: Path) -> None:
    """Check one hnswlib vector segment (a folder named by a uuid holding header.bin)."""
    header_path = segment / "header.bin"
    if not header_path.exists():
        if any((segment / name).exists() for name in SEGMENT_FILES):
            raise StoreProblem("damaged", segment, "vector segment without header.bin")
        return  # not a vector segment (or one Chroma has not started writing)
    raw = _read(header_path)
    if len(raw) != HEADER.size:
        raise StoreProblem("damaged", header_path, f"{len(raw)} bytes, expected {HEADER.size}")
    (
        version,
        _offset_level0,
        max_elements,
        count,
        per_element,
        label_offset,
        offset_data,
        max_level,
        enterpoint,
        max_m,
        max_m0,
        _m,
        _mult,
        _ef,
    ) = HEADER.unpack(raw)
    links0 = max_m0 * 4 + 4
    sane = (
        version == PERSISTENCE_VERSION
        and 0 < max_m <= 4096
        and 0 < max_m0 <= 8192
        and offset_data == links0
        and label_offset + 8 == per_element
        and per_element > links0
        and count <= max_elements < 1 << 40
        and -1 <= max_level < MAX_LEVEL
        and (count == 0 or enterpoint < count)
    )
    if not sane:
        raise StoreProblem("damaged", header_path, "the header's values are inconsistent")
    if count == 0:
        return  # Chroma rebuilds an empty segment from its log
    sizes = {name: _size(segment / name) for name in SEGMENT_FILES[1:]}
    if sizes["data_level0.bin"] < count * per_element:
        held = sizes["data_level0.bin"] // per_element
        raise StoreProblem("damaged", segment / "data_level0.bin", f"holds {held} of {count} vectors")
    if sizes["length.bin"] < count * 4:
        raise StoreProblem("damaged", segment / "length.bin", f"holds {sizes['length.bin'] // 4} of {count} lengths")
    _check_level0(segment / "data_level0.bin", count, per_element, max_m0)
    _check_link_lists(segment / "link_lists.bin", count, max_m, max(max_level, 0))
    pickle = segment / "index_metadata.pickle"
    head_tail = _head_tail(pickle)
    if head_tail is None or head_tail[0] != 0x80 or head_tail[1] != ord("."):
        raise StoreProblem("damaged", pickle, "missing or incomplete")


def _check_level0(path: Path, count: int, per_element: int, max_m0: int) -> None:
    """Every level-0 link list has at most maxM0 links, each to an element that exists."""
    records = np.memmap(path, dtype=np.uint8, mode="r", shape=(count, per_element))
    links = np.ascontiguousarray(records[:, : (max_m0 + 1) * 4]).view("<u4")
    sizes = links[:, 0] & 0xFFFF
    if int(sizes.max()) > max_m0:
        raise StoreProblem("damaged", path, f"element {int(np.argmax(sizes))} has {int(sizes.max())} links")
    used = np.arange(max_m0)[None, :] < sizes[:, None]
    if bool((links[:, 1:][used] >= count).any()):
        raise StoreProblem("damaged", path, "a link points past the last element")


def _check_link_lists(path: Path, count: int, max_m: int, max_level: int) -> None:
    """Every element's record fits in the file, with a size that is whole levels, none above maxlevel."""
    per_level = max_m * 4 + 4
    limit = count * (4 + max_level * per_level)
    if _size(path) > limit:  # a torn write can leave a (sparse) file of terabytes: never read it whole
        raise StoreProblem("damaged", path, f"{_size(path)} bytes, more than {count} elements can use")
    data = _read(path)
    position = 0
    for element in range(count):
        if position + 4 > len(data):
            raise StoreProblem("damaged", path, f"ends at element {element} of {count}")
        (size,) = struct.unpack_from("<I", data, position)
        position += 4
        if size == 0:
            continue
        levels, rest = divmod(size, per_level)
        if rest or levels > max_level or position + size > len(data):
            raise StoreProblem("damaged", path, f"element {element}: invalid link list size {size}")
        for level in range(levels):
            start = position + level * per_level
            (links,) = struct.unpack_from("<I", data, start)
            links &= 0xFFFF
            if links > max_m or any(n >= count for n in struct.unpack_from(f"<{links}I", data, start + 4)):
                raise StoreProblem("damaged", path, f"element {element}: invalid links at level {level + 1}")
        position += size


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _os_problem(path, exc) from exc


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise _os_problem(path, exc) from exc


def _head_tail(path: Path) -> tuple[int, int] | None:
    try:
        with path.open("rb") as f:
            head = f.read(1)
            f.seek(-1, os.SEEK_END)
            tail = f.read(1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.EINVAL:  # an empty file: cannot seek before its start
            return None
        raise _os_problem(path, exc) from exc
    return (head[0], tail[0]) if head and tail else None


def _os_problem(path: Path, exc: OSError) -> StoreProblem:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StoreProblem("permission", path, "permission denied")
    return StoreProblem("damaged", path, exc.strerror or str(exc))


def _signature(root: Path) -> list[tuple[str, int, int]]:
    out = []
    for path in sorted(root.rglob("*")):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return out


def _recently_written(root: Path) -> bool:
    now = time.time()
    return any(now - mtime / 1e9 < WRITE_SETTLE_S for _, _, mtime in _signature(root))


def move_aside(path: Path) -> Path:
    """Rename a damaged store (file or folder) to `NAME.broken-YYYYMMDDTHHMMSS` beside it; return the new path.

    The index is derived from the corpus, so nothing in it is lost by rebuilding; it is still
    moved rather than deleted, so it can be inspected or attached to a bug report, and the
    user decides when to delete it.
    """
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    try:
        path.rename(target)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        kind: Kind = "permission" if exc.errno in (errno.EACCES, errno.EPERM) else "damaged"
        raise StoreProblem(kind, path, f"cannot move it aside to {target.name}: {reason}") from exc
    return target


def remove_orphan_segments(root: Path) -> list[Path]:
    """Delete vector-segment folders no collection uses any more; return them.

    Chroma drops a collection's rows but leaves its vector files on disk, so every
    `nego index --rebuild` would leave a copy of the old index behind. Only folders named
    like a segment id and absent from Chroma's `segments` table are removed; if that table
    cannot be read, nothing is.
    """
    import contextlib
    import shutil
    import sqlite3
    import uuid

    try:
        uri = f"{(root / SQLITE_NAME).resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as db:
            live = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    except (sqlite3.Error, OSError, ValueError):
        return []
    removed = []
    for child in root.iterdir():
        try:
            uuid.UUID(child.name)
        except ValueError:
            continue
        if child.is_dir() and child.name not in live:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed
