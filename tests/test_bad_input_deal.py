"""Bad deal files, table-driven, through every door a deal file comes in.

Each row is (id, file name, content, expected fragments). Every row goes through
the loader (`copilot.deal.load_deal`), the CLI (`nego brief|risks --deal FILE`
through the `nego` entry point: exit 2, one `error:` line naming file/line/field,
no traceback; a few rows also as a real `nego` process)
and the UI's deal-file upload handler (`ui.brief.load_deal_file`: the problem is
shown, the form is not filled, the server's upload folder is not revealed).
The gradio wiring of that handler is covered by tests/test_ui_client.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_input_support import Outcome, Run, assert_clean_failure, run_all, run_main

from copilot.deal import MAX_DEAL_FILE_BYTES, DealError, load_deal

Content = bytes | Callable[[], bytes]

BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
scenario: traceability
audience: *i
"""


def _ten_mb() -> bytes:
    return b"scenario: traceability\npains:\n" + b"  - too long to be a deal\n" * 400_000


def _many_stakeholders_yaml() -> bytes:
    return b"scenario: traceability\naudience:\n" + b"  - x\n" * 100_000


def _many_stakeholders_json() -> bytes:
    return json.dumps({"scenario": "traceability", "audience": ["x"] * 100_000}).encode()


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    content: Content
    expected: tuple[str, ...]
    lines: int = 1
    """Lines of the CLI's stderr: one problem, one line."""

    def data(self) -> bytes:
        return self.content() if callable(self.content) else self.content


ROWS = [
    # wrong types
    Row(
        "budget-a-list",
        "deal.yaml",
        b"scenario: traceability\nconstraints: {budget: [1, 2]}\n",
        ("deal.yaml: constraints.budget: Input should be a valid string",),
    ),
    Row(
        "budget-not-top-level",
        "deal.yaml",
        b"scenario: traceability\nbudget: lots\n",
        ("deal.yaml: budget: unknown field",),
    ),
    Row(
        "stakeholders-a-string",
        "deal.yaml",
        b"scenario: traceability\naudience: CFO, CTO\n",
        ("deal.yaml: audience: Input should be a valid list",),
    ),
    Row(
        "stakeholders-not-a-field",
        "deal.json",
        b'{"scenario": "traceability", "stakeholders": "CFO"}',
        ("deal.json: stakeholders: unknown field",),
    ),
    Row(
        "customer-a-number",
        "deal.yaml",
        b"customer: 123\nscenario: traceability\n",
        ("deal.yaml: customer: Input should be a valid string",),
    ),
    Row(
        "pains-a-mapping",
        "deal.json",
        b'{"scenario": "traceability", "pains": {"a": 1}}',
        ("deal.json: pains: Input should be a valid list",),
    ),
    # unknown values, missing fields
    Row(
        "unknown-scenario",
        "deal.yaml",
        b"customer: ACME\nscenario: farming\n",
        ("deal.yaml: scenario: Input should be 'traceability'", "(got 'farming')"),
    ),
    Row(
        "unknown-stage",
        "deal.yaml",
        b"scenario: traceability\nstage: won\n",
        ("deal.yaml: stage: Input should be 'discovery'", "(got 'won')"),
    ),
    Row(
        "unknown-region",
        "deal.json",
        b'{"scenario": "traceability", "region": "mars"}',
        ("deal.json: region: Input should be", "(got 'mars')"),
    ),
    Row(
        "missing-scenario",
        "deal.yaml",
        b"customer: ACME\npains: [slow audits]\n",
        ("deal.yaml: scenario: Field required",),
    ),
    Row(
        "too-long-text",
        "deal.yaml",
        b"scenario: traceability\ncustomer: " + b"x" * 600 + b"\n",
        ("deal.yaml: customer: String should have at most 500 characters",),
    ),
    # huge inputs: refused with a size or length message
    Row(
        "100k-stakeholders-yaml",
        "deal.yaml",
        _many_stakeholders_yaml,
        ("deal.yaml: audience: List should have at most 30 items", "not 100000"),
    ),
    Row(
        "100k-stakeholders-json",
        "deal.json",
        _many_stakeholders_json,
        ("deal.json: audience: List should have at most 30 items", "not 100000"),
    ),
    Row(
        "10-mb-file", "deal.yaml", _ten_mb, ("deal.yaml: too large for a deal file", f"(limit {MAX_DEAL_FILE_BYTES:,})")
    ),
    Row(
        "many-problems",
        "deal.yaml",
        b"scenario: traceability\n" + b"".join(b"f%d: 1\n" % i for i in range(50)),
        ("deal.yaml: f0: unknown field", "… and 40 more problem(s)"),
        lines=11,
    ),
    # not a deal at all
    Row(
        "prose",
        "deal.yaml",
        b"A deal with ACME about mango traceability.\n",
        ("deal.yaml: a deal must be a mapping of fields, got a text",),
    ),
    Row(
        "a-list",
        "deal.yaml",
        b"- scenario: traceability\n",
        ("deal.yaml: a deal must be a mapping of fields, got a list",),
    ),
    Row(
        "yaml-in-a-json-file", "deal.json", b"scenario: traceability\n", ("deal.json:1: invalid JSON: Expecting value",)
    ),
    Row(
        "yaml-syntax-error",
        "deal.yaml",
        b"scenario: traceability\ncustomer: [unclosed\n",
        ("deal.yaml:3: invalid YAML",),
    ),
    Row(
        "json-syntax-error",
        "deal.json",
        b'{"scenario": "traceability",\n "customer": }',
        ("deal.json:2: invalid JSON",),
    ),
    Row(
        "duplicate-key",
        "deal.yaml",
        b"scenario: traceability\nscenario: e_invoice\n",
        ("deal.yaml:2: invalid YAML: duplicate key 'scenario'",),
    ),
    Row(
        "duplicate-json-key",
        "deal.json",
        b'{"scenario": "traceability", "scenario": "e_invoice"}',
        ("deal.json: invalid JSON: duplicate key 'scenario'",),
    ),
    Row(
        "python-tag",
        "deal.yaml",
        b"scenario: !!python/object/apply:os.system [ls]\n",
        ("deal.yaml:1: invalid YAML: could not determine a constructor",),
    ),
    Row(
        "impossible-date",
        "deal.yaml",
        b"scenario: traceability\ncustomer: 2026-13-45\n",
        ("deal.yaml:2: invalid YAML: cannot read '2026-13-45'",),
    ),
    Row(
        "wrong-extension",
        "deal.txt",
        b"scenario: traceability\n",
        ("deal.txt: not a deal file: the name must end in .yaml, .yml, .json",),
    ),
    # binary, encodings, empty
    Row(
        "png-renamed",
        "deal.yaml",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        ("deal.yaml:3: contains NUL bytes: a binary file, not a deal",),
    ),
    Row(
        "exe-renamed",
        "deal.json",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200),
        ("deal.json:1: contains NUL bytes",),
    ),
    Row(
        "gbk-not-utf8",
        "deal.yaml",
        "scenario: traceability\ncustomer: 华东汽配\n".encode("gbk"),
        ("deal.yaml:2: not valid UTF-8 (byte 0xbb", "save it as UTF-8"),
    ),
    Row("utf16", "deal.json", '{"scenario": "traceability"}'.encode("utf-16"), ("deal.json:1: the file is UTF-16",)),
    Row("empty", "deal.yaml", b"", ("deal.yaml: the file is empty",)),
    Row("whitespace-only", "deal.json", b"  \n\t\n", ("deal.json: the file is empty",)),
    Row("comments-only", "deal.yaml", b"# nothing yet\n", ("deal.yaml: the deal is empty",)),
    # bombs: refused before anything expands them
    Row("billion-laughs", "deal.yaml", BOMB, ("deal.yaml:1: invalid YAML: aliases expand to more than",)),
    Row(
        "recursive-alias",
        "deal.yaml",
        b"scenario: traceability\naudience: &a [*a]\n",
        ("deal.yaml:2: invalid YAML: an alias refers to itself",),
    ),
    Row(
        "deeply-nested-json",
        "deal.json",
        b"[" * 100_000 + b"]" * 100_000,
        ("deal.json: invalid JSON: nested too deeply",),
    ),
    Row("deeply-nested-yaml", "deal.yaml", b"a: " + b"[" * 100_000 + b"]" * 100_000, ("deal.yaml:1: invalid YAML",)),
]

ROW_IDS = [r.id for r in ROWS]


def _write(folder: Path, row: Row) -> Path:
    path = folder / row.id / row.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(row.data())
    return path


@pytest.fixture(scope="module")
def deal_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad-deals")
    return {row.id: _write(folder, row) for row in ROWS}


SUBPROCESS_ROWS = ("unknown-scenario", "10-mb-file", "billion-laughs", "png-renamed", "gbk-not-utf8", "many-problems")
"""Rows also run through the installed `nego` executable in its own process (the rest run `nego.cli.main` here)."""


@pytest.fixture(scope="module")
def processes(deal_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    home = tmp_path_factory.mktemp("bad-deals-home")
    folder = tmp_path_factory.mktemp("not-a-deal")
    runs = {key: Run(("risks", "--deal", str(deal_files[key]))) for key in SUBPROCESS_ROWS}
    runs["missing-file"] = Run(("brief", "--deal", str(folder / "nowhere.yaml")))
    runs["a-folder"] = Run(("risks", "--deal", str(folder)))
    runs["relative-path"] = Run(("brief", "--deal", "deal.yaml"), cwd=deal_files["unknown-scenario"].parent)
    return run_all(runs, home)


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_loader_refuses_with_a_message_naming_the_problem(row: Row, deal_files: dict[str, Path]) -> None:
    path = deal_files[row.id]
    with pytest.raises(DealError) as info:
        load_deal(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for fragment in row.expected:
        assert fragment in message, message


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_cli_fails_with_one_clear_line(row: Row, deal_files: dict[str, Path], nego_home: Path) -> None:
    command = "brief" if ROWS.index(row) % 2 == 0 else "risks"
    outcome = run_main([command, "--deal", str(deal_files[row.id])])
    assert_clean_failure(outcome, row.expected, lines=row.lines)


@pytest.mark.parametrize("key", SUBPROCESS_ROWS)
def test_the_nego_executable_fails_the_same_way(key: str, processes: dict[str, Outcome]) -> None:
    row = next(r for r in ROWS if r.id == key)
    assert_clean_failure(processes[key], row.expected, lines=row.lines)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("missing-file", "nowhere.yaml: file not found"),
        ("a-folder", "is a folder, not a deal file"),
        ("relative-path", "error: deal.yaml: scenario: Input should be 'traceability'"),
    ],
)
def test_cli_deal_paths(key: str, expected: str, processes: dict[str, Outcome]) -> None:
    assert_clean_failure(processes[key], expected)


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_ui_upload_shows_the_problem_and_fills_nothing(row: Row, deal_files: dict[str, Path]) -> None:
    from ui.brief import load_deal_file

    path = deal_files[row.id]
    notice, deal = load_deal_file(str(path))
    assert deal is None
    assert "The deal file has problems" in notice
    assert str(path.parent) not in notice  # the server's upload folder is not shown
    for fragment in row.expected:
        assert fragment in notice, notice


def test_a_good_deal_file_still_loads_everywhere(tmp_path: Path) -> None:
    """The control row: the same doors accept a valid file (with a BOM, as Windows editors write it)."""
    from ui.brief import load_deal_file

    path = tmp_path / "deal.json"
    path.write_bytes(b'\xef\xbb\xbf{"scenario": "traceability", "customer": "ACME", "audience": ["CFO"]}')
    assert load_deal(path).customer == "ACME"
    notice, deal = load_deal_file(str(path))
    assert deal is not None and deal.audience == ["CFO"] and "Loaded deal.json" in notice
