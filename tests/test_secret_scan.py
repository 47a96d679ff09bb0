"""Planted API keys never appear in anything a run writes or shows.

Three distinctive fake keys ("sk-PLANTED-" + random hex) are planted, one per way a user gives a key:
the NEGO_API_KEY environment variable (CLI), NEGO_HOME/config.toml (`nego ui`) and the UI's settings
tab. Every command runs in a real subprocess with logging at DEBUG level to a file, NEGO_HOME, TMPDIR,
GRADIO_TEMP_DIR, HOME and every output in one temp tree, the provider pointed at the test server
(tests/openai_server.py), which is scripted to fail in every way (401 echoing the key in its error
body, 500 and 429 with the key in the body, timeouts, cut replies, invalid JSON, refusals) and to
succeed. Then every file under the tree is read (the SQLite history as bytes and through sqlite3,
docx files unzipped, eval runs, exports, logs, captured stdout/stderr, UI responses and pages) and
none may hold a key, its first or last 12 characters, or its random part.

Excluded, and only these: NEGO_HOME/config.toml (where the user wrote KEY_TOML) and the test server's
own memory of the requests it received (it must see the key; it writes no file into the tree).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_server import Cut, Delay, InvalidJSON, OpenAIServer, Refusal, ReplyJSON, Status, Unauthorized
from ui_support import clone_shipped_index, deal_fields, free_port, update_value

pytestmark = pytest.mark.slow

BOOT = (
    "import logging, sys\n"
    "logging.basicConfig(filename=sys.argv.pop(1), level=logging.DEBUG, force=True,"
    " format='%(asctime)s %(name)s %(levelname)s %(message)s')\n"
    "sys.argv[0] = 'nego'\n"
    "from nego.cli import main\n"
    "main()\n"
)
"""Runs `nego` with every logger at DEBUG level writing to the file named by the first argument."""

DEAL_YAML = """customer: 某港口集团
industry: 航运物流
scenario: shipping_logistics
region: cn
language: zh
audience: [COO]
pains: [纸质提单流转慢，凭保函放货风险高]
goals: [电子提单占比提升到60%]
"""
GOOD_ASK_ZH = {
    "question": "沃尔玛芒果溯源从几天缩短到几秒？",
    "answer": "沃尔玛和IBM用共享账本记录每批芒果的流转，追溯时间大幅缩短。",
    "found": True,
    "cited": ["C1"],
}


def new_key() -> str:
    return "sk-PLANTED-" + secrets.token_hex(20)


@dataclass
class Tree:
    """The temp tree every artefact of the run lands in, the planted keys, and what was shown to the user."""

    root: Path
    server: OpenAIServer
    keys: dict[str, str] = field(default_factory=lambda: {c: new_key() for c in ("env", "toml", "ui")})
    shown: list[tuple[str, str]] = field(default_factory=list)
    """(label, text) of everything shown to the user outside files: UI responses, pages."""

    @property
    def home(self) -> Path:
        return self.root / "home"

    def path(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def env(self, *, key: str | None, llm: bool = True) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_") and not k.endswith("_API_KEY")}
        for name in ("tmp", "gradio", "userhome", "cache"):
            (self.root / name).mkdir(exist_ok=True)
        env.update(
            NEGO_HOME=str(self.home),
            NEGO_CORPUS_DIR=str(self.root / "corpus"),
            TMPDIR=str(self.root / "tmp"),
            GRADIO_TEMP_DIR=str(self.root / "gradio"),
            HOME=str(self.root / "userhome"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            GRADIO_ANALYTICS_ENABLED="False",
            HF_HUB_OFFLINE="1",
            ANONYMIZED_TELEMETRY="False",
            PYTHONUNBUFFERED="1",
        )
        if llm:
            env.update(
                NEGO_PROVIDER="custom",
                NEGO_BASE_URL=self.server.base_url,
                NEGO_MODEL="test-model",
                NEGO_TIMEOUT_S="1.5",
                NEGO_MAX_RETRIES="1",
            )
        if key is not None:
            env["NEGO_API_KEY"] = key
        return env

    def nego(
        self, label: str, *args: str, stdin: str | None = None, key: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `nego ARGS` in a subprocess (DEBUG log, stdout and stderr kept in the tree)."""
        log = self.path("logs", f"{label}.log")
        proc = subprocess.run(
            [sys.executable, "-c", BOOT, str(log), *args],
            env=self.env(key=self.keys["env"] if key is None else key),
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=280,
            cwd=self.path("work", ".keep").parent,
        )
        self.path("logs", f"{label}.stdout").write_text(proc.stdout, encoding="utf-8")
        self.path("logs", f"{label}.stderr").write_text(proc.stderr, encoding="utf-8")
        assert "Traceback" not in proc.stderr, f"{label}: a user saw a stack trace:\n{proc.stderr[-3000:]}"
        return proc


@pytest.fixture(scope="module")
def tree(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory, _openai_server_session: OpenAIServer) -> Tree:
    root = tmp_path_factory.mktemp("secret-scan")
    clone_shipped_index(shipped_index, root)
    t = Tree(root, _openai_server_session)
    t.path("work", "deal.yaml").write_text(DEAL_YAML, encoding="utf-8")
    return t


def key_failures(key: str) -> list[Any]:
    """Every way the endpoint fails, the key in the body wherever a server could put it."""
    return [
        Unauthorized(),  # echoes the key the client sent
        Status(500, f"internal error while serving key {key}"),
        Status(429, f"rate limit reached for key {key}", headers={"Retry-After": "0"}),
        Delay(5.0),  # past NEGO_TIMEOUT_S
        Cut(),
        InvalidJSON(),
        Refusal(f"I can't help with that, holder of {key}."),
        ReplyJSON({"not": "the schema", "key": "none"}),
    ]


def sent_keys(server: OpenAIServer) -> set[str]:
    return {r.headers.get("authorization", "").removeprefix("Bearer ") for r in server.requests}


# -- the CLI ---------------------------------------------------------------------------------------
ASK = "沃尔玛芒果溯源从几天缩短到几秒？"


def test_cli_doctor_ask_and_chat_through_every_failure(tree: Tree, openai_server: OpenAIServer) -> None:
    key = tree.keys["env"]
    openai_server.script(Unauthorized())
    failed = tree.nego("doctor", "doctor")
    assert failed.returncode == 1 and "401" in failed.stdout

    openai_server.script(Status(500, f"upstream failed for {key}"), ReplyJSON(GOOD_ASK_ZH))
    proc = tree.nego("ask", "ask", ASK, "--json")
    assert json.loads(proc.stdout)["mode"] == "llm"  # retried after the 500, then answered

    # one chat turn per failure (each turn is one ask: NEGO_MAX_RETRIES=1, so two attempts), then a success
    turns: list[list[Any]] = [
        [Unauthorized()],
        [Status(500, f"upstream failed for {key}"), Status(429, f"slow down {key}", headers={"Retry-After": "0"})],
        [Delay(5.0), Cut()],
        [InvalidJSON(), Refusal(f"No, {key}.")],
        [ReplyJSON(GOOD_ASK_ZH)],
    ]
    for script in turns:
        openai_server.script(*script)
    stdin = "\n".join([ASK] * len(turns) + ["/exit"])
    proc = tree.nego("chat", "chat", "--deal", str(tree.root / "work" / "deal.yaml"), stdin=stdin)
    assert proc.returncode == 0 and proc.stderr.count("[fallback]") == len(turns) - 1, proc.stderr
    assert openai_server.pending == 0
    assert sent_keys(openai_server) == {key}  # the planted key was really sent


def test_cli_brief_exports_and_an_eval_run(tree: Tree, openai_server: OpenAIServer) -> None:
    key = tree.keys["env"]
    deal = str(tree.root / "work" / "deal.yaml")
    for fmt, script in (
        ("md", [Unauthorized()]),
        ("docx", [Status(500, f"boom {key}"), Status(502, f"bad gateway {key}")]),
        ("json", [ReplyJSON({"opening": "x"}), Refusal(f"no, {key}")]),
    ):
        openai_server.script(*script)
        out = tree.path("exports", f"brief.{fmt}")
        proc = tree.nego(f"brief-{fmt}", "brief", "--deal", deal, "--format", fmt, "-o", str(out))
        assert proc.returncode == 0 and out.is_file() and "[fallback]" in proc.stderr, proc.stderr

    openai_server.script(*key_failures(key), *key_failures(key))
    run = tree.home / "evals" / "runs" / "cli-run"
    args = ["--suite", "skills", "--provider", "custom", "--judge", "custom", "--limit", "1", "--concurrency", "1"]
    proc = tree.nego("eval-run", "eval", "run", *args, "--no-progress", "--out", str(run))
    assert proc.returncode == 0 and (run / "report.html").is_file(), proc.stderr
    assert sent_keys(openai_server) <= {key, ""} and key in sent_keys(openai_server)


# -- the UI ---------------------------------------------------------------------------------------
@pytest.fixture()
def ui(tree: Tree, openai_server: OpenAIServer) -> Iterator[str]:
    """`nego ui` in a subprocess, its model settings (and KEY_TOML) from NEGO_HOME/config.toml."""
    config = tree.home / "config.toml"
    config.write_text(
        f'provider = "custom"\nbase_url = "{openai_server.base_url}"\nmodel = "test-model"\n'
        f'api_key = "{tree.keys["toml"]}"\ntimeout_s = 1.5\nmax_retries = 1\n',
        encoding="utf-8",
    )
    port = free_port()
    log = tree.path("logs", "ui.log")
    with tree.path("logs", "ui.stdout").open("w") as out, tree.path("logs", "ui.stderr").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", BOOT, str(log), "ui", "--port", str(port)],
            env=tree.env(key=None, llm=False),
            stdout=out,
            stderr=err,
            cwd=tree.root / "work",
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert process.poll() is None, tree.path("logs", "ui.stderr").read_text()
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_ui_chat_brief_settings_and_evals(tree: Tree, ui: str, openai_server: OpenAIServer) -> None:
    from gradio_client import Client

    toml_key, ui_key = tree.keys["toml"], tree.keys["ui"]
    client = Client(ui, verbose=False, download_files=str(tree.path("ui-downloads", ".keep").parent))

    def call(label: str, *args: Any, **kwargs: Any) -> Any:
        out = client.predict(*args, **kwargs)
        tree.shown.append((label, json.dumps(out, ensure_ascii=False, default=str)))
        return out

    openai_server.script(Unauthorized())
    first = call(
        "chat-401", message="沃尔玛芒果溯源从几天缩短到几秒？", conversation_id=None, api_name="/chat", **deal_fields()
    )
    conversation = update_value(first[2])
    openai_server.script(Status(500, f"boom {toml_key}"), Status(429, f"slow {toml_key}", headers={"Retry-After": "0"}))
    call(
        "chat-500",
        message="客户说：为什么不直接用一个共享数据库？",
        conversation_id=conversation,
        api_name="/chat",
        **deal_fields(),
    )
    openai_server.script(ReplyJSON(GOOD_ASK_ZH))
    call(
        "chat-ok",
        message="沃尔玛芒果溯源从几天缩短到几秒？",
        conversation_id=conversation,
        api_name="/chat",
        **deal_fields(),
    )
    openai_server.script(Unauthorized())
    brief_deal = {**deal_fields(), "pains": "出了问题追溯要好几天"}  # an empty pain gets a request for one, not a brief
    call("brief", **brief_deal, horizon_months=12, api_name="/brief")
    call("export", conversation_id=conversation, api_name="/export_conversation")
    call("resume", conversation_id=conversation, api_name="/resume")
    assert toml_key in sent_keys(openai_server)

    settings = {"provider": "custom", "base_url": openai_server.base_url, "model": "test-model", "language": "zh"}
    openai_server.script(Unauthorized())
    result, _ = call("test-connection-401", api_key=ui_key, api_name="/test_connection", **settings)
    assert result.startswith("❌") and "401" in result
    openai_server.script(Status(500, f"boom {ui_key}"))
    call("test-connection-500", api_key=ui_key, api_name="/test_connection", **settings)
    applied = call("apply", api_key=ui_key, api_name="/apply_settings", **settings)
    assert applied[0].startswith("✅")
    openai_server.reset()
    openai_server.script(Unauthorized(), Status(503, f"down {ui_key}"), Status(503, f"down {ui_key}"))
    call("chat-ui-key", message="帮我列一下这个项目的主要风险", conversation_id=None, api_name="/chat", **deal_fields())
    openai_server.script(*key_failures(ui_key))
    call("eval-run", suite="skills", provider="custom", limit=1, api_name="/eval_run")
    assert sent_keys(openai_server) <= {ui_key, ""} and ui_key in sent_keys(openai_server)
    for path in ("", "config", "gradio_api/info"):
        tree.shown.append((f"GET /{path}", httpx.get(ui + path, timeout=10).text))


def test_cli_eval_compare(tree: Tree, openai_server: OpenAIServer) -> None:
    """The CLI's run against the UI's run, judged pairwise by the (failing) model."""
    runs = tree.home / "evals" / "runs"
    ui_run = next(p.name for p in sorted(runs.iterdir()) if p.name != "cli-run" and (p / "summary.json").is_file())
    openai_server.script(Unauthorized(), Status(500, f"judge down {tree.keys['env']}"))
    proc = tree.nego("eval-compare", "eval", "compare", "cli-run", ui_run, "--judge", "custom")
    assert proc.returncode in (0, 1) and "cli-run" in proc.stdout, proc.stderr


# -- the scan -------------------------------------------------------------------------------------
def needles(key: str) -> dict[str, bytes]:
    random_part = key.removeprefix("sk-PLANTED-")
    return {
        "the key": key.encode(),
        "its first 12 characters": key[:12].encode(),
        "its last 12 characters": key[-12:].encode(),
        "its random part": random_part.encode(),
    }


def readable_parts(path: Path) -> Iterator[tuple[str, bytes]]:
    """The file's bytes, each member of a zip (docx) decompressed, and every row of an SQLite database."""
    data = path.read_bytes()
    yield str(path), data
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield f"{path}!{name}", archive.read(name)
    if data.startswith(b"SQLite format 3"):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
            for table in tables:
                rows = conn.execute(f'select * from "{table}"').fetchall()  # table names come from the schema
                yield f"{path}#{table}", repr(rows).encode() + json.dumps(rows, default=str).encode()
        finally:
            conn.close()


def leaks(tree: Tree, exclude: set[Path]) -> tuple[list[str], int]:
    found: list[str] = []
    files = 0
    checks = {
        f"{channel} key ({what})": needle for channel, key in tree.keys.items() for what, needle in needles(key).items()
    }
    for path in sorted(p for p in tree.root.rglob("*") if p.is_file() and p not in exclude):
        files += 1
        for where, data in readable_parts(path):
            found += [f"{where}: {name}" for name, needle in checks.items() if needle in data]
    for label, text in tree.shown:
        found += [f"shown by {label}: {name}" for name, needle in checks.items() if needle in text.encode()]
    return found, files


def test_the_scanner_finds_a_key_where_one_is(tree: Tree, tmp_path: Path) -> None:
    """The control: the same scan reports a key in plain text, inside a docx and inside SQLite rows."""
    from docx import Document

    key = tree.keys["ui"]
    probe = Tree(tmp_path, tree.server, keys={"ui": key})
    document = Document()
    document.add_paragraph(f"key {key}")
    document.save(str(tmp_path / "probe.docx"))
    conn = sqlite3.connect(tmp_path / "probe.sqlite3")
    conn.execute("create table t (v text)")
    conn.execute("insert into t values (?)", (key[:12] + "…",))
    conn.commit()
    conn.close()
    (tmp_path / "plain.log").write_text(f"Bearer {key[-12:]}", encoding="utf-8")
    found, _ = leaks(probe, set())
    assert any("probe.docx!word/document.xml" in f and "(the key)" in f for f in found), found
    assert any("probe.sqlite3#t" in f and "first 12" in f for f in found), found
    assert any("plain.log" in f and "last 12" in f for f in found), found


def test_no_artefact_holds_a_planted_key(tree: Tree) -> None:
    """Runs last: every file in the tree and everything shown in the UI, for all three keys."""
    produced = [
        tree.home / "history.sqlite3",
        tree.root / "exports" / "brief.docx",
        tree.home / "evals" / "runs" / "cli-run" / "report.html",
        tree.root / "logs" / "ui.log",
    ]
    missing = [str(p) for p in produced if not p.is_file()]
    assert not missing, f"the runs above did not produce {missing}"
    assert any(tree.root.joinpath("ui-downloads").rglob("*.docx")), "the UI's brief downloads were not fetched"
    assert tree.shown, "no UI response was recorded"
    found, files = leaks(tree, exclude={tree.home / "config.toml"})
    assert files > 100
    assert found == [], "planted API key found:\n" + "\n".join(found)
