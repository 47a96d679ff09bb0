"""Bad corpus documents, table-driven: the loader names file and line, and the index keeps what it had.

Table 1 (loader): each row drops one bad file beside a valid seed corpus;
`load_corpus` must report the file, line and field and still return the seed
documents.

Table 2 (index): a small valid corpus is indexed once; each row damages the
corpus (a new bad file, or an indexed file broken), runs `nego index` through
the CLI's entry point, and checks that every previously indexed passage is
still there byte for byte and searchable, that the problem names file and line,
and that `nego index --strict` fails and changes nothing. Each row then undoes
its damage.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bad_input_support import run_main

from copilot.corpus.loader import MAX_FILE_BYTES, load_corpus
from copilot.index.indexer import index_corpus
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore
from copilot.settings import Settings

SEED_CASE = """---
id: case-seed
type: case
title_zh: 港口电子提单试点
title_en: A port's electronic bill of lading pilot
scenarios: [shipping_logistics]
regions: [sg]
sources:
  - title: Port press release
    url: https://example.org/case-seed
updated: 2026-11-24
status: live
---

## 中文

### 要点
港口、船公司和银行共用一个账本交换电子提单，单据流转从按天计算变成按小时计算，银行能核验单据没有被重复使用。

## English

### Key points
The port, carriers and banks exchange electronic bills of lading on one shared ledger; documents move in hours
instead of days, and banks can check that a document was not used twice.
"""

SEED_GLOSSARY = """- id: term-hash
  type: glossary
  title_zh: 哈希
  title_en: Hash
  aliases_zh: [哈希值]
  aliases_en: [hash value]
  scenarios: [traceability]
  regions: [global]
  sources: [{title: Hash function, url: "https://en.wikipedia.org/wiki/Hash_function"}]
  updated: 2026-11-24
  plain: {zh: 数据的指纹, en: A fingerprint of data}
  analogy: {zh: 像指纹, en: Like a fingerprint}
  outcome: {zh: 篡改立刻可见, en: Tampering shows at once}
  example: {zh: 任何改动都会被发现, en: Any change is detected}
  avoid_when: {zh: 对方不关心技术时, en: When the buyer does not care about mechanics}
"""

SEED = {"cases/case-seed.md": SEED_CASE.encode(), "glossary/basics.yaml": SEED_GLOSSARY.encode()}
SEED_IDS = ["case-seed", "term-hash"]

BOMB = """- id: term-bomb
  type: glossary
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  aliases_en: *g
"""

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def _other_case(doc_id: str, marker: str) -> bytes:
    return (
        SEED_CASE.replace("id: case-seed", f"id: {doc_id}")
        .replace("The port, carriers", f"{marker} The port, carriers")
        .encode()
    )


def _sparse(size: int) -> Callable[[Path], None]:
    """A file of `size` bytes written in no time (a sparse file: the loader must refuse it by its size)."""

    def make(path: Path) -> None:
        with path.open("wb") as handle:
            handle.write(SEED_CASE.encode())
            handle.truncate(size)

    return make


Content = bytes | Callable[[Path], None]


@dataclass(frozen=True)
class Row:
    id: str
    path: str
    content: Content
    expected: str
    """The problem's text, from its start: `path:line: field: message` (or a prefix of it)."""

    def write(self, root: Path) -> None:
        target = root / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if callable(self.content):
            self.content(target)
        else:
            target.write_bytes(self.content)


BROKEN_FRONT_MATTER = SEED_CASE.replace("regions: [sg]", "regions: [sg").encode()
NO_ENGLISH = SEED_CASE.split("## English")[0].encode()

LOADER_ROWS = [
    Row(
        "invalid-front-matter",
        "cases/new.md",
        BROKEN_FRONT_MATTER,
        "cases/new.md:8: front matter: invalid YAML: did not find expected ',' or ']'",
    ),
    Row(
        "front-matter-a-list",
        "cases/new.md",
        b"---\n- id: case-x\n---\n\n## \xe4\xb8\xad\xe6\x96\x87\n",
        "cases/new.md:2: front matter: must be a mapping of fields",
    ),
    Row(
        "no-front-matter",
        "cases/new.md",
        b"# A heading\n\nNo front matter.\n",
        "cases/new.md:1: front matter: missing: the file must start with a '---' line",
    ),
    Row(
        "unclosed-front-matter",
        "cases/new.md",
        b"---\nid: case-x\n\n## English\n",
        "cases/new.md:1: front matter: not closed",
    ),
    Row(
        "missing-zh-section",
        "cases/new.md",
        SEED_CASE.replace("## 中文", "## Chinese").encode(),
        "cases/new.md:14: body: missing '## 中文' section",
    ),
    Row("missing-en-section", "cases/new.md", NO_ENGLISH, "cases/new.md:14: body: missing '## English' section"),
    Row(
        "empty-en-section",
        "cases/new.md",
        NO_ENGLISH + b"## English\n\nShort.\n",
        "cases/new.md:20: body: '## English' section is nearly empty",
    ),
    Row(
        "non-utf8",
        "cases/new.md",
        SEED_CASE.encode().replace("港口电子提单".encode(), "港口电子提单".encode("gbk")),
        "cases/new.md:4: file: not valid UTF-8 (byte 0xb8",
    ),
    Row(
        "50-mb-file",
        "cases/huge.md",
        _sparse(50_000_000),
        f"cases/huge.md:1: file: too large: 50,000,000 bytes (limit {MAX_FILE_BYTES:,})",
    ),
    Row(
        "nul-bytes",
        "cases/new.md",
        SEED_CASE.replace("港口", "港\0口").encode(),
        "cases/new.md:1: file: contains NUL bytes",
    ),
    Row("png-renamed-md", "cases/new.md", PNG, "cases/new.md:1: file: not valid UTF-8 (byte 0x89 at offset 0)"),
    Row(
        "duplicate-id-other-file",
        "cases/z-copy.md",
        SEED_CASE.encode(),
        "cases/z-copy.md:1: id: duplicate id 'case-seed' (first defined at cases/case-seed.md:1)",
    ),
    Row(
        "unknown-field-md",
        "cases/new.md",
        SEED_CASE.replace("status: live", "status: live\ncolour: blue").encode(),
        "cases/new.md:13: colour: unknown field",
    ),
    Row(
        "unknown-field-yaml",
        "glossary/new.yaml",
        SEED_GLOSSARY.replace("id: term-hash", "id: term-new").replace("  plain:", "  colour: blue\n  plain:").encode(),
        "glossary/new.yaml:11: [0].colour: unknown field",
    ),
    Row(
        "duplicate-key",
        "cases/new.md",
        SEED_CASE.replace("status: live", "status: live\ntitle_en: Again").encode(),
        "cases/new.md:13: front matter: invalid YAML: duplicate key 'title_en'",
    ),
    Row(
        "impossible-date",
        "cases/new.md",
        SEED_CASE.replace("updated: 2026-11-24", "updated: 2026-13-45").encode(),
        "cases/new.md:11: front matter: invalid YAML: cannot read '2026-13-45'",
    ),
    Row(
        "wrong-type",
        "cases/new.md",
        SEED_CASE.replace("regions: [sg]", "regions: sg").encode(),
        "cases/new.md:7: regions: Input should be a valid list",
    ),
    Row(
        "unknown-scenario",
        "cases/new.md",
        SEED_CASE.replace("[shipping_logistics]", "[shipping]").encode(),
        "cases/new.md:6: scenarios[0]: Input should be",
    ),
    Row(
        "python-tag",
        "glossary/new.yaml",
        b"- !!python/object/apply:os.system [ls]\n",
        "glossary/new.yaml:1: [0]: invalid YAML: could not determine a constructor",
    ),
    Row(
        "alias-bomb",
        "glossary/new.yaml",
        BOMB.encode(),
        "glossary/new.yaml:3: yaml: invalid YAML: aliases expand to more than 100,000 extra values",
    ),
    Row(
        "yaml-not-a-list",
        "glossary/new.yaml",
        b"id: term-x\ntype: glossary\n",
        "glossary/new.yaml:1: yaml: a structured corpus file must be a list of entries",
    ),
    Row("empty-yaml", "glossary/new.yaml", b"", "glossary/new.yaml:1: yaml: a structured corpus file must be a list"),
    Row(
        "yaml-unknown-type",
        "glossary/new.yaml",
        b"- id: term-x\n  type: recipe\n",
        "glossary/new.yaml:2: [0].type: must be one of ['glossary', 'playbook', 'risk'] in a YAML file (got 'recipe')",
    ),
    Row(
        "deeply-nested", "glossary/new.yaml", b"[" * 100_000 + b"]" * 100_000, "glossary/new.yaml:1: yaml: invalid YAML"
    ),
]


def _seed(root: Path) -> None:
    for rel, data in SEED.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


@pytest.mark.parametrize("row", LOADER_ROWS, ids=[r.id for r in LOADER_ROWS])
def test_loader_names_file_line_and_field_and_keeps_the_rest(row: Row, tmp_path: Path) -> None:
    _seed(tmp_path)
    row.write(tmp_path)
    result = load_corpus(tmp_path)
    problems = [str(p) for p in result.problems]
    assert any(p.startswith(row.expected) for p in problems), problems
    assert all(p.startswith(row.path) for p in problems), problems
    assert sorted(result.by_id()) == SEED_IDS
    assert {d.path for d in result.documents} == set(SEED)


# -- the index keeps what it had -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Damage:
    id: str
    files: dict[str, Content]
    """Corpus files written (a new bad file, or an indexed file overwritten)."""
    expected: tuple[str, ...]
    """Fragments `nego index` must print: the problem with file and line, and what the index kept."""


DAMAGES = [
    Damage(
        "new-file-invalid-yaml", {"cases/new.md": BROKEN_FRONT_MATTER}, ("cases/new.md:8: front matter: invalid YAML",)
    ),
    Damage(
        "indexed-file-invalid-yaml",
        {"cases/case-seed.md": BROKEN_FRONT_MATTER},
        (
            "cases/case-seed.md:8: front matter: invalid YAML",
            "cases/case-seed.md:1: index: kept the indexed version of 'case-seed'",
        ),
    ),
    Damage(
        "indexed-file-loses-english",
        {"cases/case-seed.md": NO_ENGLISH},
        ("cases/case-seed.md:14: body: missing '## English' section", "kept the indexed version of 'case-seed'"),
    ),
    Damage(
        "indexed-file-not-utf8",
        {"glossary/basics.yaml": SEED_GLOSSARY.encode("utf-16")},
        ("glossary/basics.yaml:1: file: not valid UTF-8", "kept the indexed version of 'term-hash'"),
    ),
    Damage(
        "indexed-entry-unknown-field",
        {"glossary/basics.yaml": SEED_GLOSSARY.replace("  plain:", "  colour: x\n  plain:").encode()},
        ("glossary/basics.yaml:11: [0].colour: unknown field", "kept the indexed version of 'term-hash'"),
    ),
    Damage(
        "50-mb-file", {"cases/huge.md": _sparse(50_000_000)}, ("cases/huge.md:1: file: too large: 50,000,000 bytes",)
    ),
    Damage(
        "duplicate-id-sorting-first",
        {"cases/a-copy.md": _other_case("case-seed", "INTRUDER")},
        (
            "cases/case-seed.md:1: id: duplicate id 'case-seed' (first defined at cases/a-copy.md:1)",
            "cases/a-copy.md:1: index: 'case-seed' is already indexed from cases/case-seed.md",
        ),
    ),
    Damage(
        "duplicate-id-sorting-last",
        {"cases/z-copy.md": _other_case("case-seed", "INTRUDER")},
        ("cases/z-copy.md:1: id: duplicate id 'case-seed' (first defined at cases/case-seed.md:1)",),
    ),
    Damage(
        "indexed-file-broken-and-a-copy",
        {"cases/case-seed.md": BROKEN_FRONT_MATTER, "cases/a-copy.md": _other_case("case-seed", "INTRUDER")},
        (
            "cases/case-seed.md:8: front matter: invalid YAML",
            "'case-seed' is indexed from cases/case-seed.md, which has problems",
        ),
    ),
    Damage("alias-bomb", {"glossary/bomb.yaml": BOMB.encode()}, ("glossary/bomb.yaml:3: yaml: invalid YAML: aliases",)),
    Damage("png-renamed", {"cases/picture.md": PNG}, ("cases/picture.md:1: file: not valid UTF-8 (byte 0x89",)),
]


@dataclass
class Indexed:
    settings: Settings
    store: ChunkStore
    corpus: Path


def _passages(store: ChunkStore) -> dict[str, tuple[str, str, str]]:
    return {r.chunk_id: (r.doc_id, r.doc_hash, r.text) for r in store.rows()}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    root = tmp_path_factory.mktemp("bad-corpus-index")
    corpus = root / "corpus"
    _seed(corpus)
    settings = Settings(home=root / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    report = index_corpus(settings, store)
    assert report.problems == [] and report.added == 2
    return Indexed(settings, store, corpus)


@pytest.fixture()
def damaged(indexed: Indexed, monkeypatch: pytest.MonkeyPatch, request: Any) -> Iterator[Damage]:
    """Apply a row's damage to the indexed corpus; afterwards restore the corpus and check the index is whole."""
    damage: Damage = request.param
    monkeypatch.setenv("NEGO_HOME", str(indexed.settings.home))
    monkeypatch.setenv("NEGO_CORPUS_DIR", str(indexed.corpus))
    before = _passages(indexed.store)
    for rel, content in damage.files.items():
        Row(damage.id, rel, content, "").write(indexed.corpus)
    yield damage
    for rel in damage.files:
        (indexed.corpus / rel).unlink()
    for rel, data in SEED.items():
        (indexed.corpus / rel).write_bytes(data)
    report = index_corpus(indexed.settings, indexed.store)
    assert report.problems == [] and report.added == report.updated == report.removed == 0, report
    assert _passages(indexed.store) == before


def _searchable(store: ChunkStore) -> None:
    retriever = Retriever(store)
    assert retriever.search("electronic bill of lading port banks", k=1)[0].doc_id == "case-seed"
    assert retriever.search("数据的指纹 哈希", k=1)[0].doc_id == "term-hash"


@pytest.mark.parametrize("damaged", DAMAGES, ids=[d.id for d in DAMAGES], indirect=True)
def test_a_bad_document_leaves_the_index_as_it_was(damaged: Damage, indexed: Indexed) -> None:
    before = _passages(indexed.store)
    assert {doc_id for doc_id, _, _ in before.values()} == set(SEED_IDS)

    strict = run_main(["index", "--strict"])
    assert strict.code == 1 and "Traceback" not in strict.stderr, strict
    assert "nothing indexed" in strict.stderr and damaged.expected[0] in strict.stderr, strict.stderr
    assert _passages(indexed.store) == before

    lenient = run_main(["index"])
    assert lenient.code == 0 and "Traceback" not in lenient.stderr, lenient
    for fragment in damaged.expected:
        assert fragment in lenient.stderr, lenient.stderr
    assert "0 added, 0 updated, 0 removed" in lenient.stdout, lenient.stdout
    assert _passages(indexed.store) == before
    assert "INTRUDER" not in " ".join(text for _, _, text in before.values())
    _searchable(indexed.store)


def test_index_refuses_a_corpus_folder_that_is_not_there(indexed: Indexed, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mistyped NEGO_CORPUS_DIR would index an empty corpus and empty the index: refused instead."""
    monkeypatch.setenv("NEGO_HOME", str(indexed.settings.home))
    monkeypatch.setenv("NEGO_CORPUS_DIR", str(indexed.corpus.parent / "corpsu"))
    before = _passages(indexed.store)
    outcome = run_main(["index"])
    assert outcome.code == 2 and outcome.stderr.startswith("error: corpus directory not found:"), outcome
    assert "corpsu" in outcome.stderr and len(outcome.stderr.strip().splitlines()) == 1
    assert _passages(indexed.store) == before


def test_a_fixed_file_is_indexed_again(indexed: Indexed) -> None:
    """The kept version is only kept while the file is broken: once fixed, the new text is indexed."""
    path = indexed.corpus / "cases" / "case-seed.md"
    path.write_bytes(BROKEN_FRONT_MATTER)
    index_corpus(indexed.settings, indexed.store)
    path.write_bytes(SEED_CASE.replace("instead of days", "instead of days; FIXED").encode())
    try:
        report = index_corpus(indexed.settings, indexed.store)
        assert (report.updated, report.problems) == (1, [])
        assert "FIXED" in " ".join(r.text for r in indexed.store.rows() if r.doc_id == "case-seed")
    finally:
        path.write_bytes(SEED_CASE.encode())
        index_corpus(indexed.settings, indexed.store)


def test_a_deleted_file_is_still_removed(indexed: Indexed, tmp_path: Path) -> None:
    """Keeping is for files with problems; a file that is gone takes its document out of the index."""
    path = indexed.corpus / "glossary" / "basics.yaml"
    shutil.move(path, tmp_path / "basics.yaml")
    try:
        report = index_corpus(indexed.settings, indexed.store)
        assert report.removed == 1 and "term-hash" not in {r.doc_id for r in indexed.store.rows()}
    finally:
        shutil.move(tmp_path / "basics.yaml", path)
        index_corpus(indexed.settings, indexed.store)
