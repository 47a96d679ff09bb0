"""Bad eval datasets, table-driven: the loaders and `nego eval run|retrieval --dataset FILE` name file, line, field.

Each row is (suite, file name, content, expected fragment). It goes through the
suite's loader (`evals.cases.load_skill_cases` / `load_adversarial_cases`,
`evals.retrieval.load_gold`) and through the CLI, which checks a --dataset
before opening the index or any model (so a typo fails at once, and these rows
need no index).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_input_support import assert_clean_failure, run_main

from evals.cases import DatasetError, load_adversarial_cases, load_skill_cases
from evals.retrieval import DatasetError as GoldDatasetError
from evals.retrieval import load_gold

SKILLS = """cases:
- id: c1
  deal: {scenario: traceability, customer: ACME}
  skills: [fit]
"""
ADVERSARIAL = """cases:
- id: a1
  kind: out_of_kb
  skill: ask
  input: What is the weather on Mars?
  lang: en
  expect: refuse
"""
GOLD = json.dumps(
    {"id": "r1", "query": "芒果溯源", "lang": "zh", "relevant": ["case-walmart-ibm-food-trust"]}, ensure_ascii=False
)
CASE_LINE = json.dumps({"id": "c1", "deal": {"scenario": "traceability"}, "skills": ["fit"]})
BOMB = """cases:
- id: c1
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


@dataclass(frozen=True)
class Row:
    id: str
    suite: str
    name: str
    content: bytes | None
    """None: the dataset path is a folder."""
    expected: str


def _b(text: str) -> bytes:
    return text.encode()


ROWS = [
    # skills, YAML
    Row("invalid-yaml", "skills", "s.yaml", _b(SKILLS.replace("[fit]", "[fit")), "s.yaml:5: invalid YAML"),
    Row(
        "unknown-skill",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("[fit]", "[dance]")),
        "s.yaml:4: cases[0].skills[0]: Input should be 'explain'",
    ),
    Row(
        "missing-skills",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("  skills: [fit]\n", "")),
        "s.yaml:2: cases[0].skills: Field required",
    ),
    Row(
        "missing-deal-field",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("scenario: traceability, ", "")),
        "s.yaml:3: cases[0].deal.scenario: Field required",
    ),
    Row(
        "unknown-deal-value",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("traceability", "farming")),
        "s.yaml:3: cases[0].deal.scenario: Input should be",
    ),
    Row(
        "skill-input-missing",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("[fit]", "[explain]")),
        "s.yaml:2: cases[0]: skill 'explain' needs the field 'explain'",
    ),
    Row(
        "unknown-case-field",
        "skills",
        "s.yaml",
        _b(SKILLS + "  colour: blue\n"),
        "s.yaml:5: cases[0].colour: unknown field",
    ),
    Row("unknown-top-field", "skills", "s.yaml", _b("colour: blue\n" + SKILLS), "s.yaml:1: colour: unknown field"),
    Row(
        "duplicate-ids",
        "skills",
        "s.yaml",
        _b(SKILLS + "- id: c1\n  deal: {scenario: e_invoice}\n  skills: [risks]\n"),
        "s.yaml:5: id: duplicate id 'c1'",
    ),
    Row(
        "duplicate-key",
        "skills",
        "s.yaml",
        _b(SKILLS + "  skills: [risks]\n"),
        "s.yaml:5: invalid YAML: duplicate key 'skills'",
    ),
    Row("empty", "skills", "s.yaml", b"", "s.yaml:1: cases: the dataset is empty"),
    Row("no-cases", "skills", "s.yaml", b"cases: []\n", "s.yaml:1: cases: the dataset holds no cases"),
    Row("not-a-mapping", "skills", "s.yaml", b"- id: c1\n", "s.yaml:1: cases: expected a mapping with a list"),
    Row(
        "case-not-a-mapping",
        "skills",
        "s.yaml",
        b"cases:\n- just a sentence\n",
        "s.yaml:2: cases[0]: expected a mapping of fields",
    ),
    Row("not-utf8", "skills", "s.yaml", SKILLS.replace("ACME", "华东").encode("gbk"), "s.yaml:3: not valid UTF-8"),
    Row("binary", "skills", "s.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "s.yaml:1: not valid UTF-8 (byte 0x89"),
    Row(
        "impossible-date",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("ACME", "2026-13-45")),
        "s.yaml:3: invalid YAML: cannot read '2026-13-45'",
    ),
    Row(
        "python-tag",
        "skills",
        "s.yaml",
        _b(SKILLS.replace("ACME", "!!python/object/apply:os.system [ls]")),
        "s.yaml:3: invalid YAML: could not determine a constructor",
    ),
    Row("alias-bomb", "skills", "s.yaml", _b(BOMB), "s.yaml:3: invalid YAML: aliases expand to more than"),
    Row("a-folder", "skills", "folder.yaml", None, "folder.yaml: is a folder, not a dataset file"),
    # skills, JSONL
    Row(
        "jsonl-invalid-line",
        "skills",
        "s.jsonl",
        _b(CASE_LINE + "\n{not json\n"),
        "s.jsonl:2: json: Expecting property name enclosed in double quotes (column 2)",
    ),
    Row(
        "jsonl-unknown-skill",
        "skills",
        "s.jsonl",
        _b(CASE_LINE.replace("fit", "dance")),
        "s.jsonl:1: skills[0]: Input should be 'explain'",
    ),
    Row("jsonl-not-an-object", "skills", "s.jsonl", b"[1, 2]\n", "s.jsonl:1: case: expected a mapping of fields"),
    Row(
        "jsonl-duplicate-ids",
        "skills",
        "s.jsonl",
        _b(f"{CASE_LINE}\n\n{CASE_LINE}\n"),
        "s.jsonl:3: id: duplicate id 'c1'",
    ),
    Row("jsonl-nested", "skills", "s.jsonl", b"[" * 100_000 + b"]" * 100_000, "s.jsonl:1: json: nested too deeply"),
    Row("jsonl-blank", "skills", "s.jsonl", b"\n\n", "s.jsonl:1: cases: the dataset holds no cases"),
    # adversarial
    Row(
        "unknown-kind",
        "adversarial",
        "a.yaml",
        _b(ADVERSARIAL.replace("out_of_kb", "nonsense")),
        "a.yaml:3: cases[0].kind: Input should be 'injection_user'",
    ),
    Row(
        "unknown-behaviour",
        "adversarial",
        "a.yaml",
        _b(ADVERSARIAL.replace("refuse", "panic")),
        "a.yaml:7: cases[0].expect: Input should be 'refuse'",
    ),
    Row(
        "missing-lang",
        "adversarial",
        "a.yaml",
        _b(ADVERSARIAL.replace("  lang: en\n", "")),
        "a.yaml:2: cases[0].lang: Field required",
    ),
    Row(
        "repeat-too-big",
        "adversarial",
        "a.yaml",
        _b(ADVERSARIAL + "  repeat: 1000000\n"),
        "a.yaml:8: cases[0].repeat: Input should be less than or equal to 10000",
    ),
    Row(
        "bad-deal",
        "adversarial",
        "a.yaml",
        _b(ADVERSARIAL + "  deal: {scenario: farming}\n"),
        "a.yaml:2: cases[0]: deal: scenario: Input should be",
    ),
    # retrieval gold queries (JSONL)
    Row(
        "gold-invalid-line", "retrieval", "g.jsonl", _b(GOLD + "\n{oops\n"), "g.jsonl:2: json: Expecting property name"
    ),
    Row(
        "gold-missing-query",
        "retrieval",
        "g.jsonl",
        _b(GOLD.replace('"query": "芒果溯源", ', "")),
        "g.jsonl:1: query: Field required",
    ),
    Row(
        "gold-unknown-lang",
        "retrieval",
        "g.jsonl",
        _b(GOLD.replace('"zh"', '"fr"')),
        "g.jsonl:1: lang: Input should be 'zh' or 'en'",
    ),
    Row(
        "gold-unknown-field",
        "retrieval",
        "g.jsonl",
        _b(GOLD.replace("{", '{"colour": "blue", ', 1)),
        "g.jsonl:1: colour: unknown field",
    ),
    Row(
        "gold-no-relevant",
        "retrieval",
        "g.jsonl",
        _b(GOLD.replace('["case-walmart-ibm-food-trust"]', "[]")),
        "g.jsonl:1: relevant: List should have at least 1 item",
    ),
    Row("gold-duplicate-ids", "retrieval", "g.jsonl", _b(f"{GOLD}\n{GOLD}\n"), "g.jsonl:2: id: duplicate id 'r1'"),
    Row("gold-empty", "retrieval", "g.jsonl", b"", "g.jsonl:1: queries: the dataset holds no queries"),
    Row("gold-not-an-object", "retrieval", "g.jsonl", b'"just a string"\n', "g.jsonl:1: line: expected a JSON object"),
    Row(
        "gold-not-utf8",
        "retrieval",
        "g.jsonl",
        GOLD.encode() + b"\n" + GOLD.encode("gbk"),
        "g.jsonl:2: not valid UTF-8",
    ),
    Row("gold-nested", "retrieval", "g.jsonl", b"[" * 100_000 + b"]" * 100_000, "g.jsonl:1: json: nested too deeply"),
    Row(
        "gold-yaml-file",
        "retrieval",
        "g.yaml",
        b"- id: r1\n",
        "g.yaml:1: json: Expecting value (column 1); expected one",
    ),
]

LOADERS = {"skills": load_skill_cases, "adversarial": load_adversarial_cases, "retrieval": load_gold}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-datasets")
    paths = {}
    for row in ROWS:
        path = root / row.id / row.name
        path.parent.mkdir()
        if row.content is None:
            path.mkdir()
        else:
            path.write_bytes(row.content)
        paths[row.id] = path
    return paths


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_loader_names_file_line_and_field(row: Row, datasets: dict[str, Path]) -> None:
    path = datasets[row.id]
    with pytest.raises((DatasetError, GoldDatasetError)) as info:
        LOADERS[row.suite](path)
    message = str(info.value)
    assert message.startswith(str(path)) and row.expected in message, message
    assert len(message.splitlines()) == 1, message


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_eval_run_refuses_the_dataset_in_one_line(row: Row, datasets: dict[str, Path], nego_home: Path) -> None:
    outcome = run_main(["eval", "run", "--suite", row.suite, "--dataset", str(datasets[row.id]), "--no-progress"])
    assert_clean_failure(outcome, row.expected)
    assert not (nego_home / "evals" / "runs").exists() or not any((nego_home / "evals" / "runs").iterdir())


GOLD_ROWS = [r for r in ROWS if r.suite == "retrieval"]


@pytest.mark.parametrize("row", GOLD_ROWS, ids=[r.id for r in GOLD_ROWS])
def test_eval_retrieval_refuses_the_dataset_in_one_line(row: Row, datasets: dict[str, Path], nego_home: Path) -> None:
    assert_clean_failure(run_main(["eval", "retrieval", "--dataset", str(datasets[row.id])]), row.expected)


def test_the_shipped_datasets_still_load() -> None:
    """The control rows: the stricter loaders (duplicate keys, alias limits) accept the shipped datasets."""
    from evals.cases import default_dataset

    assert len(load_skill_cases(default_dataset("skills"))) >= 60
    assert len(load_adversarial_cases(default_dataset("adversarial"))) >= 30
    assert len(load_gold(default_dataset("retrieval"))) >= 100
