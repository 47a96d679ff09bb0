"""Load and validate the corpus directory.

A bad document never stops the rest: every problem is collected as a `Problem`
(`path:line: field: what is wrong`) and every valid document is returned. The
caller decides whether problems are fatal (`nego index --strict`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from copilot.corpus.models import ENTRY_MODELS, Document, MarkdownMeta
from copilot.corpus.render import render_sections
from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct, line_of

if TYPE_CHECKING:
    from copilot.corpus.lexicons import IndustryLexicon, Regime

MAX_FILE_BYTES = 2_000_000
"""A corpus document larger than this is refused: it is not a document but a dump."""

MIN_SECTION_CHARS = 40
"""Fewer non-blank characters than this in a language section is a missing section."""

DATA = Path(__file__).resolve().parent / "data" / "loader.yaml"
MARKDOWN_SUFFIXES = {".md", ".markdown"}
YAML_SUFFIXES = {".yaml", ".yml"}
IGNORED_NAMES = {"README.md", "readme.md", "audit-allowlist.yaml", "regimes.yaml"}
"""Documentation, the audit allow-list and the compliance-regime list live beside the corpus but are not documents."""
LEXICON_DIRS = {"industries"}
"""Folders of lexicons (read by copilot.reading), not indexed documents."""


@cache
def section_headings() -> Mapping[str, str]:
    """Language -> the heading of its section in a Markdown document (data/loader.yaml)."""
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))["section_headings"]
    return MappingProxyType({str(lang): str(heading) for lang, heading in data.items()})


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    claimants: dict[str, list[str]] = field(default_factory=dict)
    """For an id declared by more than one file: every file declaring it, in load order."""
    industries: list[IndustryLexicon] = field(default_factory=list)
    """Industry lexicons (corpus/industries/*.yaml): reference data, not documents (copilot.corpus.lexicons)."""
    regimes: list[Regime] = field(default_factory=list)
    """Compliance regimes (corpus/regimes.yaml): reference data, not documents."""

    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}


def _field_name(loc: Iterable[int | str]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "document"


def _validation_problems(
    exc: ValidationError, rel: str, node: yaml.Node, line_offset: int, prefix: tuple[int | str, ...] = ()
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = line_of(node, loc) + line_offset
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "literal_error":
            message = f"{err['msg']} (got {err.get('input')!r})"
        problems.append(Problem(rel, line, _field_name(prefix + loc), message))
    return problems


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _split_sections(body: str, body_line: int) -> tuple[dict[str, str], dict[str, int]]:
    """Find the `## 中文` and `## English` sections; return text and heading line per language."""
    sections: dict[str, list[str]] = {}
    starts: dict[str, int] = {}
    current: str | None = None
    for offset, raw in enumerate(body.splitlines()):
        stripped = raw.strip()
        if stripped.startswith("## ") and not stripped.startswith("###"):
            current = None
            for lang, heading in section_headings().items():
                if stripped == heading:
                    current = lang
                    starts[lang] = body_line + offset
                    sections[lang] = []
            continue
        if current is not None:
            sections[current].append(raw)
    return {lang: "\n".join(lines).strip() for lang, lines in sections.items()}, starts


def _parse_markdown(text: str, rel: str) -> tuple[list[Document], list[Problem]]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return [], [Problem(rel, 1, "front matter", "missing: the file must start with a '---' line")]
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return [], [Problem(rel, 1, "front matter", "not closed: no second '---' line")]
    fm_text = "\n".join(lines[1:end])
    try:
        node = compose(fm_text)
        if not isinstance(node, yaml.MappingNode):
            return [], [Problem(rel, 2, "front matter", "must be a mapping of fields")]
        data = construct(node)
    except YamlSyntaxError as exc:
        return [], [Problem(rel, exc.line + 1, "front matter", exc.message)]
    problems: list[Problem] = []
    meta: MarkdownMeta | None = None
    try:
        meta = MarkdownMeta.model_validate(data)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, rel, node, line_offset=1))

    body_line = end + 2
    body = "\n".join(lines[end + 1 :])
    sections, starts = _split_sections(body, body_line)
    for lang, heading in section_headings().items():
        if lang not in sections:
            problems.append(Problem(rel, body_line, "body", f"missing '{heading}' section"))
        elif len(re.sub(r"\s", "", sections[lang])) < MIN_SECTION_CHARS:
            problems.append(
                Problem(rel, starts[lang], "body", f"'{heading}' section is nearly empty (< {MIN_SECTION_CHARS} chars)")
            )
    if problems or meta is None:
        return [], problems
    doc = Document(meta=meta, path=rel, line=1, sections=sections, content_hash=_hash(text))
    return [doc], []


def _parse_yaml(text: str, rel: str) -> tuple[list[Document], list[Problem]]:
    try:
        root = compose(text)
    except YamlSyntaxError as exc:
        return [], [Problem(rel, exc.line, "yaml", exc.message)]
    if not isinstance(root, yaml.SequenceNode):
        return [], [Problem(rel, 1, "yaml", "a structured corpus file must be a list of entries")]
    docs: list[Document] = []
    problems: list[Problem] = []
    for index, node in enumerate(root.value):
        line = node.start_mark.line + 1
        try:
            data: Any = construct(node)
        except YamlSyntaxError as exc:
            problems.append(Problem(rel, exc.line, f"[{index}]", exc.message))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(rel, line, f"[{index}]", "entry must be a mapping"))
            continue
        kind = data.get("type")
        model = ENTRY_MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            where = line_of(node, ("type",))
            problems.append(
                Problem(
                    rel,
                    where,
                    f"[{index}].type",
                    f"must be one of {sorted(ENTRY_MODELS)} in a YAML file (got {kind!r})",
                )
            )
            continue
        try:
            entry = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, rel, node, line_offset=0, prefix=(index,)))
            continue
        dumped = entry.model_dump(mode="json", exclude_none=True)
        if dumped.get("applies_to") == ["any"]:  # the default: an untagged entry keeps its content hash
            del dumped["applies_to"]
        canonical = json.dumps(dumped, ensure_ascii=False, sort_keys=True)
        docs.append(
            Document(
                meta=entry,
                path=rel,
                line=line,
                sections=render_sections(entry),
                content_hash=_hash(canonical),
                entry=entry,
            )
        )
    return docs, problems


def load_file(path: Path, rel: str) -> tuple[list[Document], list[Problem]]:
    """Load one corpus file. Never raises for bad content: problems are returned."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return [], [Problem(rel, 1, "file", f"cannot read: {exc.strerror}")]
    if size > MAX_FILE_BYTES:
        return [], [Problem(rel, 1, "file", f"too large: {size:,} bytes (limit {MAX_FILE_BYTES:,})")]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [Problem(rel, 1, "file", f"cannot read: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [Problem(rel, line, "file", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")]
    text = text.removeprefix("\ufeff")
    if "\0" in text:
        return [], [Problem(rel, 1, "file", "contains NUL bytes: not a text document")]
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return _parse_markdown(text, rel)
    return _parse_yaml(text, rel)


def corpus_files(root: Path) -> list[Path]:
    """Corpus files under `root` in a stable order (README files are documentation, not corpus)."""
    suffixes = MARKDOWN_SUFFIXES | YAML_SUFFIXES
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and p.name not in IGNORED_NAMES
        and not p.name.startswith(".")
        and not LEXICON_DIRS.intersection(p.relative_to(root).parts[:-1])
    )


def load_corpus(
    root: Path, load: Callable[[Path, str], tuple[list[Document], list[Problem]]] | None = None
) -> LoadResult:
    """Load every document under `root`; the first of two documents with one id wins.

    The reference data (industry lexicons, regimes) is validated and loaded beside the documents.
    `load` reads one file (default `load_file`): the indexer passes a cached reader.
    """
    from copilot.corpus.lexicons import load_industries, load_regimes

    result = LoadResult()
    if not root.is_dir():
        result.problems.append(Problem(str(root), 1, "corpus", "directory not found"))
        return result
    seen: dict[str, Document] = {}
    for path in corpus_files(root):
        rel = path.relative_to(root).as_posix()
        docs, problems = (load or load_file)(path, rel)
        result.problems.extend(problems)
        for doc in docs:
            first = seen.get(doc.id)
            if first is not None:
                result.claimants.setdefault(doc.id, [first.path]).append(rel)
                result.problems.append(
                    Problem(
                        rel, doc.line, "id", f"duplicate id '{doc.id}' (first defined at {first.path}:{first.line})"
                    )
                )
                continue
            seen[doc.id] = doc
            result.documents.append(doc)
    result.industries, problems = load_industries(root)
    result.problems.extend(problems)
    result.regimes, problems = load_regimes(root, set(seen))
    result.problems.extend(problems)
    return result
