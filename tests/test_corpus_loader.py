"""Loading and validation: every problem names path, line and field; bad documents never stop good ones."""

from __future__ import annotations

from pathlib import Path

from copilot.corpus.loader import MAX_FILE_BYTES, load_corpus
from copilot.corpus.references import check_references

GOOD_CASE = """---
id: case-good
type: case
title_zh: 好案例
title_en: A good case
scenarios: [traceability]
regions: [cn]
sources:
  - title: Example source
    url: https://example.org/case
updated: 2026-11-24
status: live
---

## 中文

### 业务痛点
这是一个用于测试的中文段落，描述业务痛点和区块链带来的改变，长度足够通过最小长度检查。

## English

### Business pain
This is an English paragraph used in tests. It describes the business pain and what changed.
"""

GLOSSARY = """- id: term-hash
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
  related_cases: [case-good]
"""


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in load_corpus(root).problems]


def test_valid_markdown_and_yaml_documents_load(tmp_path: Path) -> None:
    write(tmp_path, "cases/good.md", GOOD_CASE)
    write(tmp_path, "glossary/basics.yaml", GLOSSARY)
    result = load_corpus(tmp_path)
    assert result.problems == []
    assert sorted(result.by_id()) == ["case-good", "term-hash"]
    term = result.by_id()["term-hash"]
    assert "数据的指纹" in term.sections["zh"] and "A fingerprint of data" in term.sections["en"]
    assert check_references(result.documents) == []


def test_unknown_field_is_reported_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "cases/bad.md", GOOD_CASE.replace("status: live", "status: live\ncolour: blue"))
    assert problems_of(tmp_path) == ["cases/bad.md:13: colour: unknown field"]


def test_bad_scenario_key_names_field_and_line(tmp_path: Path) -> None:
    write(tmp_path, "cases/bad.md", GOOD_CASE.replace("scenarios: [traceability]", "scenarios: [farming]"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("cases/bad.md:6: scenarios[0]: ")
    assert "farming" in problem


def test_missing_required_field(tmp_path: Path) -> None:
    write(tmp_path, "cases/bad.md", GOOD_CASE.replace("title_en: A good case\n", ""))
    assert problems_of(tmp_path) == ["cases/bad.md:2: title_en: Field required"]


def test_nested_yaml_error_points_at_the_entry_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        "glossary/bad.yaml",
        GLOSSARY.replace("analogy: {zh: 像指纹, en: Like a fingerprint}", "analogy: {zh: 像指纹}"),
    )
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("glossary/bad.yaml:12: [0].analogy.en: Field required")


def test_invalid_yaml_syntax_reports_line(tmp_path: Path) -> None:
    write(tmp_path, "glossary/bad.yaml", "- id: term-x\n  type: glossary\n  title_zh: [unclosed\n")
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("glossary/bad.yaml:")
    assert ": yaml: invalid YAML" in problem


def test_missing_language_section(tmp_path: Path) -> None:
    write(tmp_path, "cases/bad.md", GOOD_CASE.split("## English")[0])
    assert problems_of(tmp_path) == ["cases/bad.md:14: body: missing '## English' section"]


def test_nearly_empty_section(tmp_path: Path) -> None:
    text = GOOD_CASE.split("## English")[0] + "## English\n\nToo short.\n"
    write(tmp_path, "cases/bad.md", text)
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("cases/bad.md:")
    assert "'## English' section is nearly empty" in problem


def test_non_utf8_file(tmp_path: Path) -> None:
    write(tmp_path, "cases/bad.md", GOOD_CASE.encode("utf-8") + b"\n\xff\xfe broken\n")
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("cases/bad.md:25: file: not valid UTF-8 (byte 0xff")


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "cases/huge.md", GOOD_CASE + "x" * (MAX_FILE_BYTES + 1))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("cases/huge.md:1: file: too large")


def test_missing_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "cases/bad.md", "# Just a heading\n\nNo front matter here.\n")
    assert problems_of(tmp_path) == ["cases/bad.md:1: front matter: missing: the file must start with a '---' line"]


def test_duplicate_id_keeps_the_first_and_names_it(tmp_path: Path) -> None:
    write(tmp_path, "cases/a.md", GOOD_CASE)
    write(tmp_path, "cases/b.md", GOOD_CASE)
    result = load_corpus(tmp_path)
    assert [d.path for d in result.documents] == ["cases/a.md"]
    assert [str(p) for p in result.problems] == [
        "cases/b.md:1: id: duplicate id 'case-good' (first defined at cases/a.md:1)"
    ]


def test_bad_document_does_not_stop_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "cases/good.md", GOOD_CASE)
    write(tmp_path, "cases/bad.md", "---\nid: Bad Id\n---\n")
    write(tmp_path, "glossary/basics.yaml", GLOSSARY)
    result = load_corpus(tmp_path)
    assert sorted(result.by_id()) == ["case-good", "term-hash"]
    assert result.problems and all(p.path == "cases/bad.md" for p in result.problems)


def test_unresolved_reference_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "glossary/basics.yaml", GLOSSARY)
    result = load_corpus(tmp_path)
    assert [str(p) for p in check_references(result.documents)] == [
        "glossary/basics.yaml:1: related_cases: unknown document id 'case-good' (in term-hash)"
    ]


def test_readme_files_are_not_documents(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# About this corpus\n")
    write(tmp_path, "cases/good.md", GOOD_CASE)
    assert problems_of(tmp_path) == []
