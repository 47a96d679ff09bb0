"""The knowledge base as a library: view one document, add a new one (validated, then indexed).

Adding a document is all or nothing: the text is validated exactly as the
corpus loader validates a file in the corpus (every problem is
`name:line: field: message`), plus the checks only a new document needs (a
safe file name, an id not already in the corpus, references that resolve, a
file it would not overwrite). Only when there is no problem is the file
written into the configured corpus directory, in its type's folder, and
indexed incrementally; a failure while indexing removes the file again.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from copilot.corpus.loader import (
    MARKDOWN_SUFFIXES,
    MAX_FILE_BYTES,
    YAML_SUFFIXES,
    Problem,
    load_corpus,
    load_file,
)
from copilot.corpus.models import Document, Source
from copilot.corpus.references import check_references
from copilot.export import write_atomic
from copilot.index.indexer import index_corpus
from copilot.index.models import IndexReport
from copilot.index.store import ChunkStore
from copilot.knowledge import KnowledgeBase
from copilot.settings import Settings

FOLDERS = {
    "case": "cases",
    "policy": "policies",
    "method": "method",
    "glossary": "glossary",
    "risk": "risks",
    "playbook": "playbooks",
}
"""Where each document type lives in the corpus (see corpus/README.md)."""

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
ProgressFn = Callable[[int, int], None]


class DocumentView(BaseModel):
    """One document as a reader sees it: metadata and its text in one language."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    type: str
    title: str
    language: str
    path: str
    scenarios: list[str]
    regions: list[str]
    sources: list[Source]
    updated: str
    text: str


class AddResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    added: bool
    problems: list[str] = Field(default_factory=list, description="`name:line: field: message`, one per problem")
    doc_ids: list[str] = Field(default_factory=list)
    path: str | None = Field(default=None, description="where the file was written, relative to the corpus")
    report: IndexReport | None = None


def document_view(kb: KnowledgeBase, doc_id: str, lang: str) -> DocumentView | None:
    """The document `doc_id` in `lang` (the other language when that section is missing), or None."""
    doc = kb.doc(doc_id.strip())
    if doc is None:
        return None
    language = lang if doc.sections.get(lang) else ("en" if lang == "zh" else "zh")
    return DocumentView(
        doc_id=doc.id,
        type=doc.type,
        title=doc.meta.title(language),
        language=language,
        path=doc.path,
        scenarios=list(doc.meta.scenarios),
        regions=list(doc.meta.regions),
        sources=list(doc.meta.sources),
        updated=doc.meta.updated.isoformat(),
        text=doc.sections.get(language, ""),
    )


def _shown_name(name: str) -> str:
    """The name as a message may show it: control characters escaped, at most 80 characters."""
    if not name:
        return "(no name)"
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in name)
    return shown if len(shown) <= 80 else shown[:77] + "…"


def _name_problem(name: str) -> Problem | None:
    shown = _shown_name(name)
    if not name or "/" in name or "\\" in name or name.startswith(".") or not _SAFE_NAME.fullmatch(name):
        return Problem(shown, 1, "file name", "use a plain file name of letters, digits, '-', '_' and '.' (no folders)")
    if ".." in name:
        return Problem(shown, 1, "file name", "must not contain '..'")
    suffix = Path(name).suffix.lower()
    if suffix not in MARKDOWN_SUFFIXES | YAML_SUFFIXES:
        return Problem(name, 1, "file name", "must end in .md (case, policy, method) or .yaml/.yml (glossary, risk…)")
    if name.lower() in {"readme.md", "audit-allowlist.yaml"}:
        return Problem(name, 1, "file name", "this name is reserved for corpus documentation")
    return None


def validate_document(settings: Settings, name: str, content: bytes) -> tuple[list[Document], list[Problem]]:
    """Validate a candidate corpus file against the configured corpus; nothing is written."""
    problem = _name_problem(name)
    if problem is not None:
        return [], [problem]
    if len(content) > MAX_FILE_BYTES:
        return [], [Problem(name, 1, "file", f"too large: {len(content):,} bytes (limit {MAX_FILE_BYTES:,})")]
    with tempfile.TemporaryDirectory(prefix="nego-add-") as tmp:
        candidate = Path(tmp) / name
        candidate.write_bytes(content)
        docs, problems = load_file(candidate, name)
    if problems:
        return [], sorted(problems)
    if not docs:
        return [], [Problem(name, 1, "document", "the file holds no document")]

    corpus = load_corpus(settings.corpus_path).documents
    existing = {d.id: d for d in corpus}
    problems = []
    for doc in docs:
        if doc.id in existing:
            first = existing[doc.id]
            problems.append(
                Problem(name, doc.line, "id", f"'{doc.id}' already exists in the corpus ({first.path}:{first.line})")
            )
    folders = {FOLDERS[d.type] for d in docs}
    if len(folders) > 1:
        problems.append(
            Problem(name, 1, "type", "one file holds one type of document; split it into one file per type")
        )
    # References of the new document must resolve (problems of the existing corpus are not this file's).
    problems += [p for p in check_references([*corpus, *docs]) if p.path == name]
    if len(folders) == 1:
        folder = folders.pop()
        if (settings.corpus_path / folder / name).exists():
            problems.append(Problem(name, 1, "file name", f"{folder}/{name} already exists in the corpus"))
    return docs, sorted(problems)


def add_document(
    settings: Settings,
    store: ChunkStore,
    name: str,
    content: bytes,
    progress: ProgressFn | None = None,
) -> AddResult:
    """Validate, write into the corpus and index one new corpus file. Nothing is written or indexed on a problem."""
    name = name.strip()
    docs, problems = validate_document(settings, name, content)
    if problems:
        return AddResult(added=False, problems=[str(p) for p in problems])
    folder = FOLDERS[docs[0].type]
    target = settings.corpus_path / folder / name
    try:

        def write(tmp: Path) -> None:
            tmp.write_bytes(content)

        write_atomic(target, write)
    except OSError as exc:
        return AddResult(
            added=False, problems=[str(Problem(name, 1, "file", f"cannot write into the corpus: {exc.strerror}"))]
        )
    try:
        report = index_corpus(settings, store, progress=progress)
    except Exception:
        target.unlink(missing_ok=True)
        index_corpus(settings, store)  # drop whatever part of the new document reached the store
        raise
    manifest = store.manifest()
    missing = [d.id for d in docs if d.id not in manifest]
    if missing:
        target.unlink(missing_ok=True)
        index_corpus(settings, store)
        return AddResult(added=False, problems=[f"{name}:1: index: not indexed: {', '.join(missing)}"], report=report)
    return AddResult(added=True, doc_ids=[d.id for d in docs], path=f"{folder}/{name}", report=report)
