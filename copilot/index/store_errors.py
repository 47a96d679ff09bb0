"""Errors of the chunk store as one line each: what is wrong with the index, where, and how to fix it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from copilot.index.integrity import StoreProblem

REBUILD_HINT = "run `nego index --rebuild` to move it aside and index the corpus again"


class IndexUnavailableError(RuntimeError):
    """The index cannot be opened or read; the message says why and how to fix it.

    `kind`: "damaged" (`nego index --rebuild` moves it aside and builds a new one),
    "permission", "busy" (another process is writing it) or "other".
    """

    def __init__(self, message: str, kind: str = "other", path: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


def is_fatal(exc: BaseException) -> bool:
    """Exceptions never turned into an index error. (Chroma's Rust panics derive from BaseException.)"""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError))


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 240 else text[:239] + "…"


def problem_error(root: Path, problem: StoreProblem) -> IndexUnavailableError:
    if problem.kind == "permission":
        message = (
            f"the index at {root} cannot be opened: {problem.reason} on {problem.path}; give your user read and "
            f"write access to {root.parent} (e.g. `sudo chown -R $USER {root.parent}`) or set NEGO_HOME to a "
            "folder you own"
        )
    elif problem.kind == "busy":
        message = f"the index at {root} is being written by another process; try again when it has finished"
    else:
        where = problem.path.relative_to(root) if problem.path.is_relative_to(root) and problem.path != root else None
        detail = f"{where}: {problem.reason}" if where else str(problem)
        message = f"the index at {root} is damaged ({detail}); {REBUILD_HINT}"
    return IndexUnavailableError(message, problem.kind, problem.path)


def shown(location: str) -> str:
    """A store's location for a message: a server URL without the credentials it may carry."""
    url = urlparse(location)
    if url.scheme in ("http", "https") and "@" in url.netloc:
        return url._replace(netloc=url.netloc.rsplit("@", 1)[1]).geturl()
    return location


def chroma_error(location: str, exc: BaseException, local: bool) -> IndexUnavailableError:
    """One line for an error Chroma raised while opening or reading the store."""
    reason = _reason(exc)
    lowered = reason.lower()
    if not local:
        return IndexUnavailableError(f"cannot use the index on the Chroma server at {shown(location)}: {reason}")
    if isinstance(exc, PermissionError) or "permission denied" in lowered or "readonly database" in lowered:
        return IndexUnavailableError(
            f"the index at {location} cannot be opened: permission denied ({reason}); give your user read and "
            "write access to it or set NEGO_HOME to a folder you own",
            "permission",
            Path(location),
        )
    if "database is locked" in lowered:
        return IndexUnavailableError(
            f"the index at {location} is locked by another process; try again when it has finished",
            "busy",
            Path(location),
        )
    if "disk is full" in lowered or "no space left" in lowered:
        return IndexUnavailableError(f"the index at {location} cannot be written: the disk is full", "other")
    return IndexUnavailableError(
        f"the index at {location} is damaged ({reason}); {REBUILD_HINT}", "damaged", Path(location)
    )
