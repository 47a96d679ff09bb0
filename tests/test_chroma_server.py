"""Chroma server mode (NEGO_CHROMA_URL): a real `chroma run` server, written and read by separate processes.

Why server mode exists: two processes on one embedded Chroma directory do not see each
other's inserts in vector queries (count() and get() do, query() does not, until the reader
writes itself). Several app workers therefore share one Chroma server. These tests start a
real server on 127.0.0.1, index the shipped corpus into it once from a `nego index`
subprocess, and check that

- a second process searching the server gets the ranking the embedded store gives;
- a long-running process with a server-mode store sees a document another process adds
  afterwards, without reopening anything;
- a wrong or unreachable NEGO_CHROMA_URL is one clear line, not a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot import paths
from copilot.index.indexer import index_corpus
from copilot.index.models import SearchFilters
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore, IndexUnavailableError
from copilot.settings import Settings
from nego.cli import app

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CHROMA = BIN / "chroma"
NEGO = BIN / "nego"
SERVER_START_S = 60.0
SUBPROCESS_S = 240
SCORE_TOLERANCE = 5e-4
"""Fused (RRF) scores: BM25 contributes up to 1.0/21, dense up to 0.15/21 per document."""

# (query, filters): Chinese, English, cross-lingual (a question in one language, passages in the
# other) and a filtered query (the filter goes to the server as a `where` clause).
QUERIES: list[tuple[str, dict[str, str]]] = [
    ("沃尔玛芒果溯源从一周缩到两秒多，这个案例底层用的什么链？数据出处是哪", {}),
    ("客户说TradeLens都倒闭了，航运区块链还有没有戏，我该怎么回应", {}),
    ("who's in GSBN and how many blockchain eBLs has COSCO issued on it so far", {}),
    ("why did we.trade and Marco Polo fail, and what should I not claim about trade finance networks", {}),
    ("Which chain does Walmart China's traceability platform run on?", {"language": "zh"}),
    ("家乐福那个扫码看鸡是在哪养的项目，销量到底涨了多少", {"language": "en"}),
    ("personal data on a blockchain: erasure and data protection", {"type": "policy", "region": "eu"}),
]

# A new, valid corpus document with words found nowhere else in the corpus.
NEW_ID = "case-quokkaledger-probe"
NEW_DOC = f"""---
id: {NEW_ID}
type: case
title_zh: 夸卡链港口单据试点
title_en: Quokkaledger port documents pilot
scenarios: [shipping_logistics]
regions: [sg]
sources:
  - title: Quokkaledger pilot note
    url: https://example.org/{NEW_ID}
updated: 2026-11-24
related: [case-tradelens]
---

## 中文

### 要点
夸卡链试点让港口、船公司和银行在一个共享账本上交换单据，单据流转从按天计算变成按小时计算。

## English

### Key points
The Quokkaledger pilot lets the port, carriers and banks exchange documents on one shared ledger;
documents move in hours instead of days.
"""
NEW_QUERY = "Quokkaledger 夸卡链 试点"

SEARCH_SCRIPT = """
import json, sys
from copilot.index.models import SearchFilters
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore
from copilot.settings import Settings

settings = Settings.load()
assert settings.chroma_url, "NEGO_CHROMA_URL did not reach the second process"
retriever = Retriever(ChunkStore.open(settings))
out = []
for query, filters in json.load(sys.stdin):
    hits = retriever.search(query, k=5, filters=SearchFilters(**filters))
    out.append([h.model_dump(mode="json") for h in hits])
print(json.dumps(out))
"""

ADD_SCRIPT = """
import sys
from pathlib import Path
from copilot.index.store import ChunkStore
from copilot.library import add_document
from copilot.settings import Settings

settings = Settings.load()
path = Path(sys.argv[1])
result = add_document(settings, ChunkStore.open(settings), path.name, path.read_bytes())
print(result.model_dump_json())
"""


@dataclass(frozen=True)
class ChromaServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_for_heartbeat(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`chroma run` exited with code {process.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                if response.status == 200 and "heartbeat" in response.read().decode():
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the Chroma server at {url} gave no heartbeat within {SERVER_START_S:.0f} s:\n{_log_tail(log)}")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """`chroma run` on 127.0.0.1 with a temp path; stopped at the end of the module, also after a failure."""
    if not CHROMA.is_file():
        pytest.fail(f"the chroma CLI is missing ({CHROMA}): install chromadb into this venv (`make venv`)")
    root = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = root / "chroma.log"
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
    server = ChromaServer(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_for_heartbeat(server.url, process, log)
        yield server
    finally:
        _stop(process)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1", **extra)
    return env


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, timeout=SUBPROCESS_S, check=False)
    assert done.returncode == 0, f"{' '.join(args[:3])}… exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def server_index(chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> ChromaServer:
    """The shipped corpus indexed into the server by a `nego index` subprocess (the module's one index build)."""
    home = tmp_path_factory.mktemp("indexer-home")
    done = _run([str(NEGO), "index"], _env(NEGO_HOME=str(home), NEGO_CHROMA_URL=chroma_server.url))
    assert " 0 problems" in done.stdout, done.stdout
    assert not (home / "index" / "chroma").exists(), "server mode must not create an embedded store"
    return chroma_server


def _server_settings(home: Path, url: str, **overrides: Any) -> Settings:
    return Settings(home=home, chroma_url=url, **overrides)


def test_the_server_holds_what_the_embedded_index_holds(
    server_index: ChromaServer, shipped_index: Any, tmp_path: Path
) -> None:
    _, embedded, _ = shipped_index
    store = ChunkStore.open(_server_settings(tmp_path, server_index.url))
    assert store.location == server_index.url
    assert store.count() == embedded.count() > 1000
    server_manifest, embedded_manifest = store.manifest(), embedded.manifest()
    assert server_manifest.keys() == embedded_manifest.keys()
    assert all(server_manifest[d].hashes == embedded_manifest[d].hashes for d in embedded_manifest)


def _ranking_differences(
    query: str, served: list[dict[str, Any]], embedded: Retriever, filters: SearchFilters
) -> list[str]:
    """How the server's hits differ from the embedded store's, beyond what approximate search explains.

    Each store builds its own approximate (HNSW) graph, so a passage deep in the dense candidate
    list may move a place; that moves a document's fused score by about 1e-4. So: the same
    documents (k is the same on both sides: it sets the candidate pool) with the same passages and
    scores within SCORE_TOLERANCE, in the same order except between near-ties.
    """
    expected = embedded.search(query, k=len(served), filters=filters)
    wanted = {h.doc_id: h for h in expected}
    got_ids = [h["doc_id"] for h in served]
    cutoff = min(h.score for h in expected) if expected else 0.0
    problems = []
    for got in served:
        want = wanted.get(got["doc_id"])
        if want is None:
            if abs(got["score"] - cutoff) > 2 * SCORE_TOLERANCE:  # only a near-tie at the cut-off may swap
                problems.append(f"{query!r}: {got['doc_id']} is not in the embedded top {len(expected)}")
            continue
        if got["chunk_id"] != want.chunk_id:
            problems.append(f"{query!r}: {want.doc_id}: passage {got['chunk_id']} instead of {want.chunk_id}")
        if abs(got["score"] - want.score) > SCORE_TOLERANCE:
            problems.append(f"{query!r}: {want.doc_id}: score {got['score']} instead of {want.score}")
        if (got["dense"] is None) != (want.dense is None) or (
            want.dense is not None and abs(got["dense"] - want.dense) > SCORE_TOLERANCE
        ):
            problems.append(f"{query!r}: {want.doc_id}: dense {got['dense']} instead of {want.dense}")
        if filters.language and got["language"] != filters.language:
            problems.append(f"{query!r}: {want.doc_id}: a passage in {got['language']}, not {filters.language}")
    for want in expected:
        if want.doc_id not in got_ids and want.score - cutoff > 2 * SCORE_TOLERANCE:
            problems.append(f"{query!r}: the server's hits lack {want.doc_id}")
    scores = [wanted[d].score for d in got_ids if d in wanted]
    if any(b - a > 2 * SCORE_TOLERANCE for a, b in pairwise(scores)):
        problems.append(f"{query!r}: order {got_ids} instead of {[h.doc_id for h in expected]}")
    return problems


def test_a_second_process_searching_the_server_ranks_like_the_embedded_store(
    server_index: ChromaServer, shipped_index: Any, tmp_path: Path
) -> None:
    _, _, embedded = shipped_index
    env = _env(NEGO_HOME=str(tmp_path / "reader-home"), NEGO_CHROMA_URL=server_index.url)
    done = _run([sys.executable, "-c", SEARCH_SCRIPT], env, stdin=json.dumps(QUERIES))
    from_server = json.loads(done.stdout)
    assert len(from_server) == len(QUERIES)
    problems = []
    for (query, filters), served in zip(QUERIES, from_server, strict=True):
        assert len(served) == 5, query
        problems += _ranking_differences(query, served, embedded, SearchFilters(**filters))
    assert problems == []
    assert not (tmp_path / "reader-home" / "index" / "chroma").exists()


def test_nego_search_json_against_the_server(server_index: ChromaServer, shipped_index: Any, tmp_path: Path) -> None:
    _, _, embedded = shipped_index
    query = "沃尔玛芒果溯源从几天缩短到几秒？"
    env = _env(NEGO_HOME=str(tmp_path / "cli-home"), NEGO_CHROMA_URL=server_index.url)
    hits = json.loads(_run([str(NEGO), "search", query, "-k", "5", "--json"], env).stdout)
    assert len(hits) == 5 and "case-walmart-ibm-food-trust" in [h["doc_id"] for h in hits]
    assert _ranking_differences(query, hits, embedded, SearchFilters()) == []


def test_a_long_running_process_sees_a_document_another_process_adds(
    server_index: ChromaServer, tmp_path: Path
) -> None:
    """The point of server mode: this process opened its store before the add and never reopens it."""
    settings = _server_settings(tmp_path / "worker-home", server_index.url)
    store = ChunkStore.open(settings)
    retriever = Retriever(store)
    chunks_before = store.count()
    assert NEW_ID not in store.manifest()
    assert NEW_ID not in [h.doc_id for h in retriever.search(NEW_QUERY, k=5)]

    corpus = tmp_path / "corpus"
    shutil.copytree(paths.corpus_dir(), corpus)
    new_file = tmp_path / f"{NEW_ID}.md"
    new_file.write_text(NEW_DOC, encoding="utf-8")
    env = _env(NEGO_HOME=str(tmp_path / "editor-home"), NEGO_CHROMA_URL=server_index.url, NEGO_CORPUS_DIR=str(corpus))
    try:
        done = _run([sys.executable, "-c", ADD_SCRIPT, str(new_file)], env)
        result = json.loads(done.stdout)
        assert result["added"], result["problems"]
        report = result["report"]
        assert (report["added"], report["updated"], report["removed"]) == (1, 0, 0), report  # only the new document
        assert (corpus / "cases" / new_file.name).is_file()

        # The same store object, never reopened: count, get and query all see the other process's insert.
        new_chunks = sorted(store.manifest()[NEW_ID].chunk_ids)
        assert new_chunks and store.count() == chunks_before + len(new_chunks)
        vectors = store.vectors(new_chunks)
        for chunk_id in new_chunks:
            nearest = store.query_dense(vectors[chunk_id], 1, None)
            assert nearest[0][0] == chunk_id and nearest[0][1] == pytest.approx(1.0, abs=1e-3)
        # The retriever's sparse index is a snapshot: refreshing it (no reopen) finds the new document.
        retriever.refresh()
        hits = retriever.search(NEW_QUERY, k=3)
        assert hits[0].doc_id == NEW_ID
        cross = retriever.search("Quokkaledger pilot", k=1, filters=SearchFilters(language="zh"))[0]
        assert (cross.doc_id, cross.language) == (NEW_ID, "zh")
    finally:  # leave the server as the other tests expect it: the shipped corpus only
        index_corpus(settings, store)
    assert NEW_ID not in store.manifest()
    assert store.count() == chunks_before


def test_an_unreachable_server_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    result = CliRunner().invoke(
        app, ["search", "区块链"], env={"NEGO_HOME": str(tmp_path / "home"), "NEGO_CHROMA_URL": url}
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "NEGO_CHROMA_URL" in lines[0] and url in lines[0] and "chroma run" in lines[0]
    assert "Traceback" not in result.output and "rebuild" not in lines[0].lower()
    assert not (tmp_path / "home" / "index" / "chroma").exists()


@pytest.mark.parametrize(
    "url",
    ["localhost:8000", "chroma.internal", "ftp://127.0.0.1:8000", "http://127.0.0.1:port", "http://127.0.0.1:8000/db"],
)
def test_a_url_that_is_not_a_chroma_server_url_names_the_setting(tmp_path: Path, url: str) -> None:
    with pytest.raises(IndexUnavailableError, match=r"^NEGO_CHROMA_URL is not a Chroma server URL: .*HOST:PORT"):
        ChunkStore.open(_server_settings(tmp_path, url))
    assert not (tmp_path / "index").exists()


def test_credentials_in_a_bad_url_are_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailableError) as raised:
        ChunkStore.open(_server_settings(tmp_path, "http://admin:s3cret@127.0.0.1:notaport"))
    assert "s3cret" not in str(raised.value) and "NEGO_CHROMA_URL" in str(raised.value)
