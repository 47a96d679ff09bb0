"""Bad command-line flags, settings and config files, table-driven: exit 2 (or 1) with one `error:` line.

Flag rows run `nego.cli.main` in this process (the real entry point, its
error handling included). Rows whose input is the environment (NEGO_*, the
config file, the data folder) run the `nego` executable as a separate process
with that environment, a few at a time, once per module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bad_input_support import Outcome, Run, assert_clean_failure, run_all, run_main


@dataclass(frozen=True)
class Row:
    id: str
    args: tuple[str, ...]
    expected: tuple[str, ...]
    codes: tuple[int, ...] = (2,)


S = ("--scenario", "traceability")
FLAG_ROWS = [
    # numbers out of range or not numbers
    Row(
        "k-zero",
        ("search", "q", "-k", "0"),
        ("Invalid value for '-k'", "greater than or equal to 1", "(see 'nego search --help')"),
    ),
    Row("k-negative", ("search", "q", "-k", "-3"), ("Invalid value for '-k'",)),
    Row("k-huge", ("search", "q", "-k", "100000"), ("Invalid value for '-k'", "less than or equal to 100")),
    Row("k-not-a-number", ("search", "q", "-k", "five"), ("Invalid value for '-k'", "valid integer")),
    Row(
        "horizon-zero", ("plan", *S, "--horizon", "0"), ("Invalid value for '--horizon'", "greater than or equal to 3")
    ),
    Row(
        "horizon-1000",
        ("brief", *S, "--horizon", "1000"),
        ("Invalid value for '--horizon'", "less than or equal to 60"),
    ),
    Row("horizon-fraction", ("plan", *S, "--horizon", "2.5"), ("Invalid value for '--horizon'",)),
    Row("concurrency-zero", ("eval", "run", "--suite", "skills", "--concurrency", "0"), ("'--concurrency'",)),
    Row("limit-zero", ("eval", "run", "--suite", "skills", "--limit", "0"), ("'--limit'",)),
    Row("port-zero", ("ui", "--port", "0"), ("Invalid value for '--port'",)),
    Row("port-too-big", ("ui", "--port", "70000"), ("Invalid value for '--port'",)),
    # unknown choices
    Row("lang-search", ("search", "q", "--lang", "fr"), ("--lang: unknown value 'fr'; choose one of: zh, en",)),
    Row("lang-skill", ("risks", *S, "--lang", "de"), ("--lang: unknown value 'de'",)),
    Row("scenario-filter", ("search", "q", "--scenario", "farming"), ("--scenario: unknown value 'farming'",)),
    Row("type-filter", ("search", "q", "--type", "recipe"), ("--type: unknown value 'recipe'",)),
    Row("region-filter", ("search", "q", "--region", "mars"), ("--region: unknown value 'mars'",)),
    Row("scenario-deal-flag", ("risks", "--scenario", "farming"), ("command line: scenario:", "(got 'farming')")),
    Row("stage-deal-flag", ("fit", *S, "--stage", "won"), ("command line: stage:", "(got 'won')")),
    Row("region-deal-flag", ("plan", *S, "--region", "mars"), ("command line: region:", "(got 'mars')")),
    Row("provider", ("risks", *S, "--provider", "skynet"), ("--provider: unknown value 'skynet'",)),
    Row("format", ("brief", *S, "--format", "pdf"), ("--format: unknown value 'pdf'; choose one of: md, docx, json",)),
    Row("suite", ("eval", "run", "--suite", "vibes"), ("--suite: unknown value 'vibes'",)),
    Row("eval-provider", ("eval", "run", "--suite", "skills", "--provider", "x"), ("--provider: unknown value 'x'",)),
    Row("judge", ("eval", "compare", "a", "b", "--judge", "x"), ("--judge: unknown value 'x'",)),
    # missing or contradictory input
    Row("no-deal", ("risks",), ("give a deal: --deal FILE, or at least --scenario KEY",)),
    Row("docx-without-out", ("brief", *S, "--format", "docx"), ("--format docx needs -o FILE",)),
    Row(
        "out-and-run-id",
        ("eval", "run", "--suite", "skills", "--out", "x", "--run-id", "y"),
        ("give --out or --run-id, not both",),
    ),
    Row("empty-question", ("ask", "   "), ("the question is empty",)),
    Row(
        "control-chars-question",
        ("ask", "\x01\x02\u200b"),
        ("the question is empty (or only blanks and invisible characters)",),
    ),
    Row("empty-explain", ("explain", "", *S), ("the text to explain is empty",)),
    Row("empty-objection", ("objection", " \t", *S), ("the objection is empty",)),
    Row("empty-pain", ("risks", *S, "--pain", "  "), ("command line: pains[0]: String should have at least 1",)),
    Row(
        "31-pains",
        ("risks", *S, *[a for n in range(31) for a in ("--pain", f"p{n}")]),
        ("command line: pains: List should have at most 30 items",),
    ),
    Row("missing-argument", ("search",), ("Missing argument 'query'",)),
    Row("unknown-option", ("search", "q", "--frobnicate"), ("No such option: --frobnicate",)),
    Row("unknown-command", ("frobnicate",), ("No such command 'frobnicate'",)),
    Row("corpus-missing", ("index", "--corpus", "/nonexistent/corpus"), ("--corpus: directory not found",)),
    Row("no-such-run", ("eval", "compare", "run-a", "run-b"), ("no eval run 'run-a'",)),
    Row(
        "thresholds-missing",
        ("eval", "gate", "r", "--thresholds", "/nonexistent/t.yaml"),
        ("/nonexistent/t.yaml: file not found",),
    ),
    Row("auth-empty", ("ui", "--auth", " "), ("--auth is empty",)),
    Row("auth-no-colon", ("ui", "--auth", "justauser"), ("is neither user:password nor an existing users file",)),
]


@pytest.mark.parametrize("row", FLAG_ROWS, ids=[r.id for r in FLAG_ROWS])
def test_bad_flag_fails_with_one_clear_line(row: Row, nego_home: Path) -> None:
    assert_clean_failure(run_main(row.args), row.expected, codes=row.codes)


# -- settings from the environment, a config file and the data folder: separate processes ---------------------
@dataclass(frozen=True)
class EnvRow:
    id: str
    env: Mapping[str, str]
    expected: tuple[str, ...]
    args: tuple[str, ...] = ("search", "q")
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Files to create (relative to the row's folder) before the run; `{dir}` in env values is that folder."""


ENV_ROWS = [
    EnvRow(
        "unknown-provider",
        {"NEGO_PROVIDER": "skynet"},
        ("invalid settings: NEGO_PROVIDER: Input should be 'offline'", "(got 'skynet')"),
    ),
    EnvRow("unknown-language", {"NEGO_LANGUAGE": "fr"}, ("NEGO_LANGUAGE: Input should be 'zh' or 'en' (got 'fr')",)),
    EnvRow("unknown-embedding", {"NEGO_EMBEDDING": "bert"}, ("NEGO_EMBEDDING: Input should be 'use' or 'openai'",)),
    EnvRow(
        "chunk-size-text",
        {"NEGO_CHUNK_MAX_TOKENS": "lots"},
        ("NEGO_CHUNK_MAX_TOKENS: Input should be a valid integer",),
    ),
    EnvRow(
        "chunk-size-tiny",
        {"NEGO_CHUNK_MAX_TOKENS": "1"},
        ("NEGO_CHUNK_MAX_TOKENS: Input should be greater than or equal to 64",),
    ),
    EnvRow("negative-timeout", {"NEGO_TIMEOUT_S": "-5"}, ("NEGO_TIMEOUT_S: Input should be greater than 0",)),
    EnvRow(
        "home-is-a-file",
        {"NEGO_HOME": "{dir}/home"},
        ("data folder", "/home (NEGO_HOME) is a file, not a folder"),
        files={"home": b"not a folder"},
    ),
    EnvRow(
        "home-under-a-file",
        {"NEGO_HOME": "{dir}/file/home"},
        ("/file/home (NEGO_HOME) cannot be created: Not a directory",),
        files={"file": b"x"},
    ),
    EnvRow(
        "home-cannot-be-created",
        {"NEGO_HOME": "/proc/nego-test-home"},
        ("data folder /proc/nego-test-home (NEGO_HOME) cannot be created",),
    ),
    EnvRow(
        "config-malformed",
        {"NEGO_CONFIG": "{dir}/config.toml"},
        ("config.toml: invalid TOML", "line 2"),
        files={"config.toml": b'provider = "openai"\nmodel = \n'},
    ),
    EnvRow(
        "home-config-malformed",
        {"NEGO_HOME": "{dir}/h"},
        ("/h/config.toml: invalid TOML",),
        files={"h/config.toml": b"[unclosed\n"},
    ),
    EnvRow(
        "config-unknown-key",
        {"NEGO_CONFIG": "{dir}/c.toml"},
        ("c.toml: unknown setting(s): colour",),
        files={"c.toml": b'colour = "blue"\n'},
    ),
    EnvRow(
        "config-bad-type",
        {"NEGO_CONFIG": "{dir}/c.toml"},
        ("c.toml: chunk_max_tokens: Input should be a valid integer",),
        files={"c.toml": b'chunk_max_tokens = "x"\n'},
    ),
    EnvRow(
        "config-bad-provider",
        {"NEGO_CONFIG": "{dir}/c.toml"},
        ("c.toml: provider: Input should be", "(got 'skynet')"),
        files={"c.toml": b'provider = "skynet"\n'},
    ),
    EnvRow(
        "config-not-utf8",
        {"NEGO_CONFIG": "{dir}/c.toml"},
        ("c.toml: config file is not valid UTF-8",),
        files={"c.toml": 'model = "模型"\n'.encode("gbk")},
    ),
    EnvRow("config-binary", {"NEGO_CONFIG": "{dir}/c.toml"}, ("c.toml:",), files={"c.toml": bytes(range(256))}),
    EnvRow("config-is-a-folder", {"NEGO_CONFIG": "{dir}"}, ("cannot read config file: Is a directory",)),
    EnvRow(
        "config-missing",
        {"NEGO_CONFIG": "{dir}/nowhere.toml"},
        ("nowhere.toml: cannot read config file: No such file or directory",),
    ),
    EnvRow(
        "env-beats-a-bad-config-value",
        {"NEGO_CONFIG": "{dir}/c.toml", "NEGO_LANGUAGE": "xx"},
        ("NEGO_LANGUAGE: Input should be",),
        files={"c.toml": b'language = "en"\n'},
    ),
    EnvRow(
        "corpus-dir-missing",
        {"NEGO_CORPUS_DIR": "{dir}/corpsu"},
        ("corpus directory not found:", "corpsu"),
        args=("index",),
    ),
    EnvRow("chroma-url-not-a-url", {"NEGO_CHROMA_URL": "not a url"}, ("NEGO_CHROMA_URL is not a",)),
    EnvRow(
        "auth-env-no-colon",
        {"NEGO_AUTH": "justauser"},
        ("is neither user:password nor an existing users file",),
        args=("ui",),
    ),
    EnvRow("deal-flag-with-bad-env", {"NEGO_PROVIDER": "skynet"}, ("NEGO_PROVIDER",), args=("risks", *S)),
]


@pytest.fixture(scope="module")
def env_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("bad-env")
    runs = {}
    for row in ENV_ROWS:
        folder = root / row.id
        folder.mkdir()
        for rel, data in row.files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        env = {name: value.replace("{dir}", str(folder)) for name, value in row.env.items()}
        runs[row.id] = Run(row.args, env)
    return run_all(runs, root / "default-home")


@pytest.mark.parametrize("row", ENV_ROWS, ids=[r.id for r in ENV_ROWS])
def test_bad_settings_fail_with_one_clear_line(row: EnvRow, env_outcomes: dict[str, Outcome]) -> None:
    assert_clean_failure(env_outcomes[row.id], row.expected)


def test_a_data_folder_that_is_not_writable(tmp_path: Path) -> None:
    from bad_input_support import run_nego, without_root_file_powers

    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    try:
        outcome = run_nego(Run(("search", "q")), home, without_root_file_powers())
    finally:
        home.chmod(0o700)
    assert_clean_failure(outcome, "(NEGO_HOME) is not writable")
