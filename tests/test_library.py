"""Adding a document to the knowledge base (validated first, all or nothing) and viewing one, on a small corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from copilot.index.indexer import index_corpus
from copilot.index.store import ChunkStore
from copilot.knowledge import KnowledgeBase
from copilot.library import add_document, document_view, validate_document
from copilot.settings import Settings

CASE = """---
id: {id}
type: case
title_zh: 某港口电子提单试点
title_en: A port's electronic bill of lading pilot
scenarios: [shipping_logistics]
regions: [sg]
sources:
  - title: Port press release
    url: https://example.org/{id}
updated: 2026-11-24
related: [{related}]
---

## 中文

### 要点
港口、船公司和银行共用一个账本交换电子提单，单据流转从按天计算变成按小时计算，银行能核验单据没有被重复使用。

## English

### Key points
The port, carriers and banks exchange electronic bills of lading on one shared ledger; documents move in hours
instead of days, and banks can check that a document was not used twice.
"""


def _case(doc_id: str = "case-port-ebl", related: str = "case-seed") -> bytes:
    return CASE.format(id=doc_id, related=related).encode("utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, ChunkStore]:
    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    (corpus / "cases").mkdir(parents=True)
    (corpus / "cases" / "case-seed.md").write_bytes(_case("case-seed", "case-seed"))
    settings = Settings(home=root / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    index_corpus(settings, store)
    return settings, store


def _problems(settings: Settings, name: str, content: bytes) -> list[str]:
    return [str(p) for p in validate_document(settings, name, content)[1]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/evil.md", "../../etc/evil.md:1: file name:"),
        ("cases/evil.md", "cases/evil.md:1: file name:"),
        (".hidden.md", ".hidden.md:1: file name:"),
        ("notes.txt", "notes.txt:1: file name: must end in .md"),
        ("README.md", "README.md:1: file name: this name is reserved"),
    ],
)
def test_unsafe_or_wrong_file_names_are_refused(small: tuple[Settings, ChunkStore], name: str, expected: str) -> None:
    problems = _problems(small[0], name, _case())
    assert len(problems) == 1 and problems[0].startswith(expected)


def test_problems_name_the_line_and_field(small: tuple[Settings, ChunkStore]) -> None:
    settings, _ = small
    bad = _case().replace(b"scenarios: [shipping_logistics]", b"scenarios: [shipping]")
    assert any(p.startswith("case-port-ebl.md:6: scenarios[0]: ") for p in _problems(settings, "case-port-ebl.md", bad))
    no_english = _case().split(b"## English")[0]
    assert _problems(settings, "case-port-ebl.md", no_english) == [
        "case-port-ebl.md:14: body: missing '## English' section"
    ]
    assert _problems(settings, "x.md", b"\xff\xfe not utf-8") == [
        "x.md:1: file: not valid UTF-8 (byte 0xff at offset 0)"
    ]


def test_duplicate_ids_unknown_references_and_existing_files_are_refused(small: tuple[Settings, ChunkStore]) -> None:
    settings, _ = small
    assert _problems(settings, "again.md", _case("case-seed")) == [
        "again.md:1: id: 'case-seed' already exists in the corpus (cases/case-seed.md:1)"
    ]
    assert _problems(settings, "case-port-ebl.md", _case(related="case-nowhere")) == [
        "case-port-ebl.md:1: related: unknown document id 'case-nowhere' (in case-port-ebl)"
    ]
    assert _problems(settings, "case-seed.md", _case("case-other")) == [
        "case-seed.md:1: file name: cases/case-seed.md already exists in the corpus"
    ]


def test_a_bad_document_writes_and_indexes_nothing(small: tuple[Settings, ChunkStore]) -> None:
    settings, store = small
    before = (sorted(p.name for p in settings.corpus_path.rglob("*")), store.count())
    result = add_document(settings, store, "case-port-ebl.md", _case(related="case-nowhere"))
    assert not result.added and result.problems and result.report is None
    assert (sorted(p.name for p in settings.corpus_path.rglob("*")), store.count()) == before


def test_a_valid_document_is_written_indexed_and_searchable(small: tuple[Settings, ChunkStore]) -> None:
    settings, store = small
    seen: list[tuple[int, int]] = []
    result = add_document(settings, store, "case-port-ebl.md", _case(), progress=lambda d, t: seen.append((d, t)))
    assert result.added, result.problems
    assert result.doc_ids == ["case-port-ebl"] and result.path == "cases/case-port-ebl.md"
    assert (settings.corpus_path / "cases" / "case-port-ebl.md").read_bytes() == _case()
    assert result.report is not None and result.report.added == 1 and result.report.unchanged == 1
    assert seen[-1] == (1, 1)
    kb = KnowledgeBase.open(settings, store)
    assert kb.search("电子提单 港口", k=1)[0].doc_id == "case-port-ebl"
    view: Any = document_view(kb, "case-port-ebl", "en")
    assert view.title == "A port's electronic bill of lading pilot" and "bills of lading" in view.text
    assert view.sources[0].url == "https://example.org/case-port-ebl"
    assert document_view(kb, "case-nowhere", "zh") is None


def test_a_corpus_that_cannot_be_written_is_reported(tmp_path: Path, small: tuple[Settings, ChunkStore]) -> None:
    settings, store = small
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "cases").write_text("a file where the cases folder should be", encoding="utf-8")
    broken = settings.model_copy(update={"corpus_dir": corpus})
    result = add_document(broken, store, "case-new.md", _case("case-new", "case-new"))
    assert not result.added
    assert result.problems[0].startswith("case-new.md:1: file: cannot write into the corpus")
