"""The corpus as last read, so that indexing reads and parses only the files that changed.

At 100k chunks (5k documents) parsing every file (front matter YAML, sections) took
~6 s of CPU before the indexer could tell that nothing had changed. Two shortcuts:

- `CorpusScan`: every file's relative path, size and modification time under the
  corpus folder (a `stat`, no read; reference data such as lexicons included). Its
  digest, saved with the index state after a complete run,
  tells the indexer that the corpus is exactly as it was (copilot/index/indexer.py
  then checks the store's write number too, and skips the run);
- `CorpusCache`: what `load_file` returned for each file, keyed by the file's path,
  size and modification time, kept under NEGO_HOME/index/corpus-cache.json. An
  unchanged file is not read: its documents come back from the cache *without their
  sections* (`stub_ids`); the indexer re-reads the few it has to chunk (`full`).

Like `make` and git, a file is taken as unchanged when its size and modification time
(nanoseconds) are; a tool that rewrites a file keeping both is not noticed (`nego index
--rebuild`, or touching the file, reads it again). As in git ("racily clean" entries), a
file modified less than RACY_SECONDS before the scan is never taken from the cache and
keeps the whole scan from being taken as unchanged: the file system's clock is coarse, so
a second edit of the same size within one tick would otherwise go unnoticed. The cache file is JSON validated with the
same pydantic models the loader builds; a missing, damaged or other-format cache is ignored
(everything is read) and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from copilot.corpus.loader import LoadResult, Problem, load_corpus, load_file
from copilot.corpus.models import Document

log = logging.getLogger(__name__)

FORMAT = 1
RACY_SECONDS = 2.0
CACHE_FILE = "corpus-cache.json"
_DOCS = TypeAdapter(list[Document])


def _code_version() -> str:
    """The loader's own code: a loader that parses differently must not be answered from an older cache."""
    import copilot.corpus.loader as loader
    import copilot.corpus.models as models
    import copilot.corpus.render as render

    digest = hashlib.sha256(str(FORMAT).encode())
    for module in (loader, models, render):
        with contextlib.suppress(OSError, TypeError):
            digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CorpusScan:
    """Every corpus file under `root` with its size and modification time, in the loader's order."""

    root: Path
    files: list[tuple[str, int, int]]
    taken_ns: int = 0

    @classmethod
    def of(cls, root: Path) -> CorpusScan:
        taken_ns = time.time_ns()
        files = []
        # Every file under the root, not only the documents: the loader reads reference data (lexicons) too.
        for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
            with contextlib.suppress(OSError):  # vanished since the listing: the loader will say so
                st = path.stat()
                files.append((path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns))
        return cls(root, files, taken_ns)

    def racy(self, mtime_ns: int) -> bool:
        """Modified too close to the scan for its modification time to tell a later edit apart."""
        return mtime_ns >= self.taken_ns - int(RACY_SECONDS * 1e9)

    @property
    def settled(self) -> bool:
        """No file is racy: the digest can stand for the contents."""
        return not any(self.racy(mtime) for _, _, mtime in self.files)

    def digest(self) -> str:
        listing = json.dumps([str(self.root.resolve()), self.files], ensure_ascii=False)
        return hashlib.sha256(listing.encode()).hexdigest()


def _stub(doc: Document) -> Document:
    """`doc` without its sections (the bulk of its size): enough to compare, check references and hold."""
    return doc.model_copy(update={"sections": {}})


@dataclass
class CorpusCache:
    path: Path
    stub_ids: set[str] = field(default_factory=set)
    """Documents returned without their sections by the last `load` (see `full`)."""

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("code") == _code_version() and isinstance(data.get("files"), dict):
                return dict(data["files"])
        except (OSError, ValueError) as exc:
            if self.path.exists():
                log.warning("ignoring a damaged corpus cache at %s: %s", self.path, exc)
        return {}

    def load(self, scan: CorpusScan) -> LoadResult:
        """`load_corpus(scan.root)`, reading only files whose size or modification time changed."""
        cached = self._read()
        stat = {rel: (size, mtime) for rel, size, mtime in scan.files}
        fresh: dict[str, Any] = {}
        self.stub_ids = set()

        def load(path: Path, rel: str) -> tuple[list[Document], list[Problem]]:
            entry = cached.get(rel)
            size, mtime = stat.get(rel, (-1, -1))
            if (
                entry is not None
                and entry.get("size") == size
                and entry.get("mtime_ns") == mtime
                and not scan.racy(mtime)
            ):
                try:
                    docs = _DOCS.validate_python(entry["docs"])
                    problems = [Problem(*p) for p in entry["problems"]]
                except (ValueError, TypeError, KeyError):
                    docs = None
                if docs is not None:
                    self.stub_ids |= {d.id for d in docs}
                    fresh[rel] = entry
                    return docs, problems
            docs, problems = load_file(path, rel)
            if size >= 0 and not scan.racy(mtime):
                fresh[rel] = {
                    "size": size,
                    "mtime_ns": mtime,
                    "docs": _DOCS.dump_python([_stub(d) for d in docs], mode="json"),
                    "problems": [[p.path, p.line, p.field, p.message] for p in problems],
                }
            return docs, problems

        result = load_corpus(scan.root, load)
        if fresh != cached:
            self._write(fresh)
        return result

    def full(self, doc: Document, root: Path) -> Document:
        """`doc` with its sections: read again from its file when the cache returned it without them."""
        if doc.id not in self.stub_ids:
            return doc
        docs, _ = load_file(root / doc.path, doc.path)
        return next((d for d in docs if d.id == doc.id), doc)

    def _write(self, files: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"code": _code_version(), "files": files}, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:  # a read-only or full disk: the next run reads every file again
            log.warning("cannot save the corpus cache at %s: %s", self.path, exc)
            with contextlib.suppress(OSError):
                tmp.unlink()
