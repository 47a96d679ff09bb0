"""Bad uploads to the knowledge base, table-driven: nothing is written outside the corpus, the message says why.

Rows go through `copilot.library.add_document` (the core of "add a document",
whatever the file name a browser sends) and the knowledge tab's handler
`ui.knowledge.add_doc` (the name is the uploaded file's own name, so only names
a file system can hold). One test launches the app and drives gradio's upload
route: the upload size cap and a traversal file name in the multipart form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from bad_input_support import tree_snapshot

from copilot.corpus.loader import MAX_FILE_BYTES
from copilot.index.indexer import index_corpus
from copilot.index.store import ChunkStore
from copilot.library import add_document
from copilot.settings import Settings

CASE = """---
id: {id}
type: case
title_zh: 港口电子提单试点
title_en: A port's electronic bill of lading pilot
scenarios: [shipping_logistics]
regions: [sg]
sources:
  - title: Port press release
    url: https://example.org/{id}
updated: 2026-11-24
---

## 中文

### 要点
港口、船公司和银行共用一个账本交换电子提单，单据流转从按天计算变成按小时计算，银行能核验单据没有被重复使用。

## English

### Key points
The port, carriers and banks exchange electronic bills of lading on one shared ledger; documents move in hours
instead of days, and banks can check that a document was not used twice.
"""

BOMB = b"""- id: term-bomb
  type: glossary
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


def case(doc_id: str = "case-upload") -> bytes:
    return CASE.format(id=doc_id).encode()


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    content: bytes
    expected: str
    on_disk: bool = True
    """Whether a file can carry this name (then the UI handler row runs too)."""


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
PLAIN = "file name: use a plain file name of letters, digits, '-', '_' and '.' (no folders)"

ROWS = [
    # path traversal and unsafe names
    Row("dot-dot-slash", "../../etc/passwd.md", case(), f"../../etc/passwd.md:1: {PLAIN}", on_disk=False),
    Row("absolute-path", "/etc/passwd.md", case(), f"/etc/passwd.md:1: {PLAIN}", on_disk=False),
    Row("into-a-folder", "cases/evil.md", case(), f"cases/evil.md:1: {PLAIN}", on_disk=False),
    Row("backslashes", "..\\..\\windows\\evil.md", case(), f"..\\..\\windows\\evil.md:1: {PLAIN}"),
    Row("drive-letter", "C:\\Users\\evil.md", case(), f"C:\\Users\\evil.md:1: {PLAIN}"),
    Row("nul-byte", "evil\x00.md", case(), f"evil\\x00.md:1: {PLAIN}", on_disk=False),
    Row("newline", "evil\n../x.md", case(), f"evil\\x0a../x.md:1: {PLAIN}", on_disk=False),
    Row("very-long", "a" * 250 + ".md", case(), "a" * 77 + "…:1: " + PLAIN),
    Row("dot-dot-inside", "case..md", case(), "case..md:1: file name: must not contain '..'"),
    Row("dot-dot-only", "..", case(), f"..:1: {PLAIN}", on_disk=False),
    Row("hidden", ".evil.md", case(), f".evil.md:1: {PLAIN}"),
    Row("url-encoded", "%2e%2e%2fevil.md", case(), f"%2e%2e%2fevil.md:1: {PLAIN}"),
    Row("empty-name", "", case(), f"(no name):1: {PLAIN}", on_disk=False),
    Row("non-ascii", "案例.md", case(), f"案例.md:1: {PLAIN}"),
    Row("reserved", "README.md", case(), "README.md:1: file name: this name is reserved"),
    # wrong types
    Row("exe", "tool.exe", EXE, "tool.exe:1: file name: must end in .md"),
    Row("pdf", "report.pdf", PDF, "report.pdf:1: file name: must end in .md"),
    Row("double-extension", "case.md.exe", EXE, "case.md.exe:1: file name: must end in .md"),
    Row("pdf-renamed-md", "case-upload.md", PDF, "case-upload.md:2: file: not valid UTF-8 (byte 0xe2"),
    Row("exe-renamed-md", "case-upload.md", EXE, "case-upload.md:1: file: not valid UTF-8 (byte 0x90"),
    Row("empty-file", "case-upload.md", b"", "case-upload.md:1: front matter: missing"),
    Row("alias-bomb", "bomb.yaml", BOMB, "bomb.yaml:3: yaml: invalid YAML: aliases expand"),
    # oversize
    Row(
        "oversize",
        "case-upload.md",
        case() + b"x" * MAX_FILE_BYTES,
        f"case-upload.md:1: file: too large: {len(case()) + MAX_FILE_BYTES:,} bytes (limit {MAX_FILE_BYTES:,})",
    ),
]
DISK_ROWS = [r for r in ROWS if r.on_disk]


@dataclass
class Small:
    root: Path
    settings: Settings
    store: ChunkStore


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Small:
    root = tmp_path_factory.mktemp("bad-uploads")
    (root / "corpus" / "cases").mkdir(parents=True)
    (root / "corpus" / "cases" / "case-seed.md").write_bytes(case("case-seed"))
    (root / "outside").mkdir()
    settings = Settings(home=root / "home", corpus_dir=root / "corpus")
    store = ChunkStore.open(settings)
    index_corpus(settings, store)
    return Small(root, settings, store)


def _unchanged(small: Small) -> Iterator[None]:
    corpus, outside = tree_snapshot(small.root / "corpus"), tree_snapshot(small.root / "outside")
    top = sorted(p.name for p in small.root.iterdir())
    chunks = small.store.count()
    yield
    assert tree_snapshot(small.root / "corpus") == corpus
    assert tree_snapshot(small.root / "outside") == outside
    assert sorted(p.name for p in small.root.iterdir()) == top
    assert small.store.count() == chunks
    assert not Path("/etc/passwd.md").exists()


@pytest.fixture()
def unchanged(small: Small) -> Iterator[None]:
    """Fails the test if the corpus, a folder beside it or the index changed."""
    yield from _unchanged(small)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_add_document_refuses_and_writes_nothing(row: Row, small: Small, unchanged: None) -> None:
    result = add_document(small.settings, small.store, row.name, row.content)
    assert not result.added and result.path is None
    assert any(p.startswith(row.expected) for p in result.problems), result.problems


@pytest.fixture(scope="module")
def ctx(small: Small) -> Iterator[Any]:
    from ui.context import AppContext

    context = AppContext.open(small.settings, small.store)
    yield context
    context.close()


@pytest.mark.parametrize("row", DISK_ROWS, ids=[r.id for r in DISK_ROWS])
def test_ui_upload_handler_refuses_and_says_why(
    row: Row, small: Small, ctx: Any, tmp_path: Path, unchanged: None
) -> None:
    from ui.knowledge import add_doc

    upload = tmp_path / row.name
    upload.write_bytes(row.content)
    message, _status = add_doc(ctx, str(upload), "", "markdown", gr.Progress(), lang="en")
    assert "Nothing was indexed" in message
    assert row.expected in message, message


def test_ui_upload_of_a_huge_file_is_refused_before_it_is_read(
    small: Small, ctx: Any, tmp_path: Path, unchanged: None
) -> None:
    """A 50 MB upload (sparse here) is judged by its size: the handler never reads it into memory."""
    from ui.knowledge import add_doc

    upload = tmp_path / "case-upload.md"
    with upload.open("wb") as handle:
        handle.write(case())
        handle.truncate(50_000_000)
    message, _ = add_doc(ctx, str(upload), "", "markdown", gr.Progress(), lang="en")
    assert "case-upload.md:1: file: too large: 50,000,000 bytes" in message


def test_a_valid_upload_still_goes_into_the_corpus_folder(small: Small, ctx: Any, tmp_path: Path) -> None:
    """The control row: the same handler adds a good file, inside the corpus, and nowhere else."""
    from ui.knowledge import add_doc

    outside = tree_snapshot(small.root / "outside")
    upload = tmp_path / "case-upload-ok.md"
    upload.write_bytes(case("case-upload-ok"))
    message, _ = add_doc(ctx, str(upload), "", "markdown", gr.Progress(), lang="en")
    assert "Added and indexed" in message and "cases/case-upload-ok.md" in message
    assert (small.root / "corpus" / "cases" / "case-upload-ok.md").read_bytes() == case("case-upload-ok")
    assert tree_snapshot(small.root / "outside") == outside


@pytest.mark.slow
def test_gradio_upload_route_caps_size_and_strips_folders(small: Small, tmp_path: Path) -> None:
    """The served app: an upload over the cap is refused by gradio; a traversal name lands in gradio's cache only."""
    import httpx
    from ui_support import running_app

    before = tree_snapshot(small.root / "outside")
    with running_app(small.settings, small.store) as (url, _ctx):
        too_big = httpx.post(
            url + "gradio_api/upload",
            files={"files": ("case-big.md", case() + b"x" * 3_000_000, "text/markdown")},
            timeout=60,
        )
        assert too_big.status_code == 413, too_big.text
        assert "maximum allowed size of 2097152 bytes" in too_big.text, too_big.text
        traversal = httpx.post(
            url + "gradio_api/upload",
            files={"files": ("../../outside/evil.md", case("case-evil"), "text/markdown")},
            timeout=60,
        )
        assert traversal.status_code == 200, traversal.text
        (stored,) = traversal.json()
        assert Path(stored).name == "evil.md" and ".." not in Path(stored).parts
    assert tree_snapshot(small.root / "outside") == before
    assert not (small.root / "corpus" / "cases" / "evil.md").exists()
