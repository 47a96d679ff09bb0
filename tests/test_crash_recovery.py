"""Process death and damaged stores: `kill -9` while indexing, chatting and exporting; a missing or broken index.

Every kill is a real SIGKILL of a real subprocess, sent the moment the test sees the process at
the point it wants: progress drawn on its terminal, Chroma's SQLite journal appearing (a write
transaction is open), a vector-segment file changing, a line printed after a history write.
What is checked afterwards is an invariant (the same index as a clean run, a consistent
history, the old file or the new one), never a timing.
"""

from __future__ import annotations

import json
import os
import pty
import random
import re
import shutil
import signal
import sqlite3
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.corpus.loader import load_corpus
from copilot.history import History
from copilot.index.indexer import _fingerprint, doc_key, index_corpus, pending_changes
from copilot.index.retriever import Retriever
from copilot.index.store import ChunkStore
from copilot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"
GOLD = REPO / "evals" / "datasets" / "retrieval.jsonl"
KILL_DEADLINE_S = 600.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS = re.compile(r"(?<![\w/.-])(\d+)/(\d+)(?![\w/])")


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: no developer NEGO_* settings, offline, this NEGO_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(
        NEGO_HOME=str(home),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TERM="xterm-256color",
        COLUMNS="120",
    )
    env.update(extra)
    return env


# -- kill -9 during indexing --------------------------------------------------------------------------
class IndexRun:
    """`nego index` in a subprocess with stderr on a pseudo-terminal, so rich draws its `done/total` bar."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.chroma = home / "index" / "chroma"
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nego", "index", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env or child_env(home),
            cwd=REPO,
        )
        os.close(slave)
        self._master = master
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            with self._lock:
                self._buffer.extend(data)

    def terminal(self) -> str:
        with self._lock:
            return ANSI.sub("", self._buffer.decode("utf-8", "replace"))

    def progress(self) -> tuple[int, int] | None:
        found = PROGRESS.findall(self.terminal())
        return (int(found[-1][0]), int(found[-1][1])) if found else None

    def in_transaction(self) -> bool:
        """Chroma's SQLite file is in rollback-journal mode: the journal exists while a write is open."""
        return (self.chroma / "chroma.sqlite3-journal").exists()

    def vector_files(self) -> list[tuple[str, int, int]]:
        out = []
        for path in sorted(self.chroma.glob("*/*.bin")):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            out.append((str(path), st.st_size, st.st_mtime_ns))
        return out

    def kill_when(self, condition: Callable[[], bool]) -> bool:
        """SIGKILL the process the moment `condition()` holds (polled every millisecond).

        False when the process ended before the condition was seen.
        """
        deadline = time.monotonic() + KILL_DEADLINE_S
        while self.proc.poll() is None:
            if condition():
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()
                return True
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"`nego index` never reached the kill point:\n{self.output()}")
            time.sleep(0.001)
        return False

    def wait(self) -> int:
        return self.proc.wait(timeout=KILL_DEADLINE_S)

    def output(self) -> str:
        """What the process printed: stdout once it has ended, then its terminal (stderr)."""
        stdout = ""
        if self.proc.poll() is not None and self.proc.stdout is not None and not self.proc.stdout.closed:
            stdout = self.proc.stdout.read().decode("utf-8", "replace")
        return stdout + self.terminal()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._reader.join(timeout=10)
        os.close(self._master)


@pytest.fixture()
def index_runs() -> Iterator[Callable[..., IndexRun]]:
    runs: list[IndexRun] = []

    def start(home: Path, *args: str, env: dict[str, str] | None = None) -> IndexRun:
        run = IndexRun(home, *args, env=env)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


@dataclass
class KillPoint:
    name: str
    condition: Callable[[IndexRun], Callable[[], bool]]


def _after_first_batch(run: IndexRun) -> Callable[[], bool]:
    return lambda: (p := run.progress()) is not None and p[0] > 0


def _write_after_first_batch(run: IndexRun) -> Callable[[], bool]:
    return lambda: (p := run.progress()) is not None and p[0] > 0 and run.in_transaction()


def _half_way(run: IndexRun) -> Callable[[], bool]:
    return lambda: (p := run.progress()) is not None and p[1] > 0 and 2 * p[0] >= p[1]


def _first_write(run: IndexRun) -> Callable[[], bool]:
    """The first write transaction once the bar is drawn (0/N shown): the first batch's upsert."""
    return lambda: run.progress() is not None and run.in_transaction()


def _vector_count(run: IndexRun) -> int:
    """The element count in the vector segment's header.bin (0 if none is written yet)."""
    for header in run.chroma.glob("*/header.bin"):
        raw = header.read_bytes()
        if len(raw) == 100:
            return int(struct.unpack_from("<Q", raw, 20)[0])  # after int32 version and two size_t
    return 0


def _vector_persist(run: IndexRun) -> Callable[[], bool]:
    """Chroma persists its HNSW index every 1000 vectors, header first: kill right after the header."""
    before = _vector_count(run)
    return lambda: _vector_count(run) > before


def _vector_files_change(run: IndexRun) -> Callable[[], bool]:
    before = run.vector_files()
    return lambda: run.vector_files() != before


def _nth_write(n: int) -> Callable[[IndexRun], Callable[[], bool]]:
    """The n-th write transaction seen once the bar is drawn."""

    def condition(run: IndexRun) -> Callable[[], bool]:
        state = {"seen": 0, "open": False}

        def check() -> bool:
            if run.progress() is None:
                return False
            now = run.in_transaction()
            if now and not state["open"]:
                state["seen"] += 1
            state["open"] = now
            return state["seen"] >= n

        return check

    return condition


@dataclass
class Killed:
    point: str
    returncode: int
    recovered: bool
    output: str = field(repr=False)


def kill_and_resume(
    start: Callable[..., IndexRun], home: Path, points: list[KillPoint], env: dict[str, str], *first_args: str
) -> list[Killed]:
    """Run `nego index` once per kill point, each killed at its point; then once more to the end.

    Every run after a kill must start normally: exit by our SIGKILL or 0, never a crash of its
    own. A run may find the store damaged by the previous kill (Chroma writes its vector files
    in place): it then says so, moves the store aside and indexes anew.
    """
    results = []
    for number, point in enumerate(points):
        run = start(home, *(first_args if number == 0 else ()), env=env)
        killed = run.kill_when(point.condition(run))
        output = run.output()
        if not killed:
            # On a fast machine a later point can be missed (the run it would interrupt is short, or the
            # earlier kills left less work): the run must then simply have succeeded. The first point
            # must always be hit, so every test kills at least once.
            assert number > 0, f"{point.name}: `nego index` finished before the first kill point:\n{output}"
            assert run.proc.returncode == 0 and "Traceback" not in output, output
            results.append(Killed(f"{point.name} (finished before it)", 0, "moved it aside" in output, output))
            continue
        assert run.proc.returncode == -signal.SIGKILL, output
        assert "Traceback" not in output, output
        results.append(Killed(point.name, run.proc.returncode, "moved it aside" in output, output))
    final = start(home, env=env)
    code = final.wait()
    output = final.output()
    assert code == 0, f"`nego index` after the kills failed ({code}):\n{output}"
    assert "Traceback" not in output
    results.append(Killed("completes", code, "moved it aside" in output, output))
    return results


def gold_queries() -> list[str]:
    return [json.loads(line)["query"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_same_index(settings: Settings, store: ChunkStore, clean: ChunkStore) -> None:
    """`store` (recovered after kills) holds exactly what a clean index of the same corpus holds."""
    rows = store.rows()
    ids = [r.chunk_id for r in rows]
    duplicates = [cid for cid, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate chunk ids: {duplicates[:5]}"
    per_doc = Counter((r.doc_id, r.lang, r.chunk_id.rsplit(":", 1)[-1]) for r in rows)
    assert not [k for k, n in per_doc.items() if n > 1], "duplicate (doc, chunk index) entries"
    clean_rows = {r.chunk_id: r for r in clean.rows()}
    assert store.count() == clean.count() == len(rows)
    assert sorted(ids) == sorted(clean_rows), "chunk ids differ from a clean index of the same corpus"
    for row in rows:
        assert row == clean_rows[row.chunk_id], f"{row.chunk_id}: text or metadata differs from a clean index"

    documents = load_corpus(settings.corpus_path).documents
    fingerprint = _fingerprint(settings, store)
    manifest = store.manifest()
    stale = [d.id for d in documents if manifest[d.id].hashes != {doc_key(d, fingerprint)}]
    assert not stale, f"documents whose chunks carry an old doc_hash: {stale[:5]}"
    assert pending_changes(settings, store, documents) == 0

    ours, theirs = store.vectors(sorted(ids)), clean.vectors(sorted(ids))
    differing = [cid for cid in ids if not np.array_equal(ours[cid], theirs[cid])]
    assert not differing, f"stored vectors differ from a clean index: {differing[:5]}"
    # Every vector is in the HNSW graph exactly once: nothing lost, no ghost of a deleted chunk.
    everything = store.query_dense(ours[ids[0]], store.count(), None)
    assert sorted(cid for cid, _ in everything) == sorted(ids)

    recovered, reference = Retriever(store, cache=False), Retriever(clean, cache=False)
    queries = gold_queries()
    for query in queries:
        assert [h.doc_id for h in recovered.search(query, k=10, mode="bm25")] == [
            h.doc_id for h in reference.search(query, k=10, mode="bm25")
        ], query
    top5 = [
        ([h.doc_id for h in recovered.search(q, k=5)], [h.doc_id for h in reference.search(q, k=5)]) for q in queries
    ]
    # Dense ranks come from Chroma's HNSW graph, which is approximate and built by two threads: two clean
    # builds of the shipped corpus, or two opens of one store, differ in the top 5 of a few of the 148 gold
    # queries (measured: 1 to 4), and rarely in the best one. The data are equal (above, exactly); this
    # bounds what the approximation may change.
    differ = [(q, a, b) for q, (a, b) in zip(queries, top5, strict=True) if a != b]
    first = [(q, a, b) for q, a, b in differ if a[:1] != b[:1]]
    assert len(first) <= 0.03 * len(queries), f"best document differs from a clean index: {first}"
    assert len(differ) <= 0.07 * len(queries), f"top 5 differs from a clean index on {len(differ)} queries: {differ}"


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_kill_9_while_indexing_the_shipped_corpus(
    tmp_path: Path, shipped_index: Any, index_runs: Callable[..., IndexRun]
) -> None:
    """Killed while creating the store, while writing vectors, between batches, mid-batch, while Chroma persists
    its vector index, half way: the next `nego index` completes to exactly the index a clean run builds.

    A kill while Chroma persists its HNSW files leaves them torn (the header promises more vectors than
    the data file holds); the next run detects it, moves the store aside and indexes anew."""
    home = tmp_path / "home"
    env = child_env(home)
    points = [
        KillPoint("while Chroma creates its database", lambda run: run.in_transaction),
        KillPoint("while Chroma writes the vector segment", _vector_files_change),
        KillPoint("after the first batch", _after_first_batch),
        KillPoint("inside a write after the first batch", _write_after_first_batch),
        KillPoint("while Chroma persists its vector index", _vector_persist),
        KillPoint("half way", _half_way),
    ]
    results = kill_and_resume(index_runs, home, points, env)
    print("\n".join(f"{r.point}: exit {r.returncode}, recovered={r.recovered}" for r in results))

    _, clean, _ = shipped_index
    store = ChunkStore.open(Settings(home=home))
    assert_same_index(Settings(home=home), store, clean)


def _subset_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    for folder in ("cases", "policies"):
        shutil.copytree(SHIPPED_CORPUS / folder, corpus / folder)
    return corpus


EXTRA = (
    "\n\n### Field notes\n"
    + " ".join(
        f"Note {n}: the buyer's team asked again how the shared ledger changes month-end reconciliation."
        for n in range(80)
    )
    + "\n"
)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_kill_9_while_updating_removing_and_rebuilding(tmp_path: Path, index_runs: Callable[..., IndexRun]) -> None:
    """Documents grown, shrunk and deleted, and a `--rebuild`, each killed inside Chroma's write
    transactions: stale chunks never survive, none is duplicated, the result equals a clean index."""
    corpus = _subset_corpus(tmp_path)
    home = tmp_path / "home"
    env = child_env(home, NEGO_CORPUS_DIR=str(corpus))
    first = index_runs(home, env=env)
    assert first.wait() == 0, first.output()

    cases = sorted((corpus / "cases").glob("*.md"))
    grown, removed = cases[:6], cases[6:10]
    originals = {path: path.read_text(encoding="utf-8") for path in grown}
    for path in grown:
        path.write_text(originals[path].rstrip("\n") + EXTRA, encoding="utf-8")
    for path in removed:
        path.unlink()
    kill_and_resume(
        index_runs, home, [KillPoint("first write", _nth_write(1)), KillPoint("second write", _nth_write(2))], env
    )
    before = ChunkStore.open(Settings(home=home, corpus_dir=corpus))
    assert any("Field notes" in r.text for r in before.rows())
    # Chroma keeps one view of a directory per process and would not see the next runs' writes in queries.
    before.client.close()

    for path, text in originals.items():  # shrink back: the extra chunks must go
        path.write_text(text, encoding="utf-8")
    kill_and_resume(index_runs, home, [KillPoint("first write", _nth_write(1))], env)
    kill_and_resume(
        index_runs, home, [KillPoint("rebuild after the first batch", _after_first_batch)], env, "--rebuild"
    )

    settings = Settings(home=home, corpus_dir=corpus)
    clean_settings = Settings(home=tmp_path / "clean", corpus_dir=corpus)
    clean = ChunkStore.open(clean_settings)
    index_corpus(clean_settings, clean)
    store = ChunkStore.open(settings)
    assert not any("Field notes" in r.text for r in store.rows())
    assert not {r.path for r in store.rows()} & {f"cases/{p.name}" for p in removed}
    assert_same_index(settings, store, clean)


# -- kill -9 during a chat reply ----------------------------------------------------------------------
CHAT_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from copilot.core import ChatTurn, Copilot
    from copilot.deal import deal_from_data
    from copilot.history import History
    from copilot.settings import Settings

    index_home, history_home, conversation, question, pace = sys.argv[1:6]
    copilot = Copilot.open(Settings(home=index_home))
    history = History.open(Settings(home=history_home))
    deal = deal_from_data({"scenario": "traceability", "customer": "鲜果供应链集团"}, "test")
    detail = history.get(conversation)
    turns = [ChatTurn(role=m.role, content=m.content)
             for m in detail.messages if m.role == "user" or m.status == "complete"]
    # As ui/chat.py: the user's message, then the reply stored as `partial` before the first word.
    history.add_user_message(conversation, question)
    reply_id = history.start_reply(conversation)
    events = list(copilot.chat(question, turns, deal))  # the copilot composes, then streams
    full = "".join(e.text or "" for e in events if e.kind == "text")
    print(json.dumps({"reply_id": reply_id, "full": full}), flush=True)
    reply, citations, notices, skill = "", [], [], None
    for event in events:
        if event.kind == "text" and event.text:
            reply += event.text
            history.save_partial(reply_id, reply)  # flushed on every piece: the kill lands among writes
            print(json.dumps({"flushed": reply}), flush=True)
            time.sleep(float(pace))  # the pace of a model's stream
        elif event.kind == "route":
            skill = event.skill
        elif event.kind == "citations":
            citations = event.citations
        elif event.kind == "notice" and event.notice:
            notices.append(event.notice)
    history.complete_reply(reply_id, reply, citations, notices, skill)
    print(json.dumps({"complete": reply}), flush=True)
    """
)


@dataclass
class ChatTurnRun:
    question: str
    reply_id: int
    full: str
    last_flushed: str
    killed: bool


def run_chat_turn(
    index_home: Path, history_home: Path, conversation: str, question: str, kill_after: int | None, pace: float
) -> ChatTurnRun:
    """One chat turn in a child process; SIGKILL it after its `kill_after`-th flush (None: let it finish)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHAT_CHILD, str(index_home), str(history_home), conversation, question, str(pace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(index_home),
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        header = json.loads(proc.stdout.readline() or "null")
        assert header, proc.stderr.read() if proc.stderr else ""
        flushed, last = 0, ""
        killed = False
        for line in proc.stdout:
            event = json.loads(line)
            if "flushed" in event:
                flushed += 1
                last = event["flushed"]
                if kill_after is not None and flushed >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    killed = True
                    break
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if not killed:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return ChatTurnRun(question, int(header["reply_id"]), str(header["full"]), last, killed)


def test_kill_9_during_a_chat_reply_keeps_the_history_consistent(tmp_path: Path, shipped_index: Any) -> None:
    settings, _, _ = shipped_index
    index_home = Path(settings.home)
    history_home = tmp_path / "history"
    history = History.open(Settings(home=history_home))
    conversation = history.create("沃尔玛芒果溯源", deal={"scenario": "traceability"}).id

    turns = [
        run_chat_turn(index_home, history_home, conversation, "沃尔玛芒果溯源从几天缩短到几秒？", None, 0.0),
        run_chat_turn(index_home, history_home, conversation, "What did TradeLens fail at?", 1, 0.05),
        run_chat_turn(index_home, history_home, conversation, "帮我列一下这个项目的主要风险", 5, 0.05),
        # No pause between writes: the kill lands among back-to-back transactions.
        run_chat_turn(index_home, history_home, conversation, "Explain hash anchoring to a CFO", 3, 0.0),
    ]
    assert [t.killed for t in turns] == [False, True, True, True]

    db = history_home / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    messages = History.open(Settings(home=history_home)).get(conversation).messages
    assert [m.role for m in messages] == ["user", "assistant"] * 4
    for turn, (user, reply) in zip(turns, zip(messages[::2], messages[1::2], strict=True), strict=True):
        assert (user.content, user.status) == (turn.question, "complete")
        assert reply.id == turn.reply_id
        if not turn.killed:
            assert (reply.status, reply.content) == ("complete", turn.full)
            continue
        # Whatever was flushed before the kill is kept; the reply is never marked complete unless it was.
        assert reply.content.startswith(turn.last_flushed)
        assert turn.full.startswith(reply.content)
        if reply.status == "complete":
            assert reply.content == turn.full
        else:
            assert reply.status == "partial"
    assert messages[3].status == messages[5].status == "partial"  # killed while the model was still streaming

    # The conversation goes on: a later turn in the same conversation, in a new process.
    later = run_chat_turn(index_home, history_home, conversation, "那欧盟呢？", None, 0.0)
    after = History.open(Settings(home=history_home)).get(conversation).messages
    assert [(m.role, m.status) for m in after[-2:]] == [("user", "complete"), ("assistant", "complete")]
    assert after[-1].content == later.full
    exported = tmp_path / "out" / "conversation.md"
    History.open(Settings(home=history_home)).export_markdown(conversation, exported)
    assert exported.read_text(encoding="utf-8").count("Reply unfinished") == sum(m.status == "partial" for m in after)


# -- kill -9 during an export ----------------------------------------------------------------------------
EXPORT_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from copilot.history import History
    from copilot.settings import Settings

    home, conversation, target = sys.argv[1:4]
    history = History.open(Settings(home=home))
    print("ready", flush=True)
    n = 0
    while True:
        history.export_markdown(conversation, Path(target))
        n += 1
        print(f"wrote {n}", flush=True)
    """
)


def _big_conversation(history: History, messages: int) -> str:
    conversation = history.create("大型对话 / a long conversation").id
    rng = random.Random(7)
    for n in range(messages):
        history.add_user_message(conversation, f"问题 {n}: " + "为什么要用联盟链？" * 50)
        reply = history.start_reply(conversation)
        text = "".join(rng.choices("区块链溯源供应链金融结算对账 chain ledger proof ", k=30_000))
        history.complete_reply(reply, text, [], [])
    return conversation


def test_kill_9_during_an_export_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    history = History.open(Settings(home=home))
    conversation = _big_conversation(history, 120)
    old = history.to_markdown(conversation)
    history.add_user_message(conversation, "最后一个问题 / one more question")
    new = history.to_markdown(conversation)
    assert len(new) > 3_000_000 and old != new

    out = tmp_path / "out"
    out.mkdir()
    target = out / "conversation.md"
    outcomes: Counter[str] = Counter()
    delays = [0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.13, 0.17, 0.22, 0.3, 0.4, 0.6, 0.0]
    for attempt, delay in enumerate(delays):
        fresh = attempt == len(delays) - 1  # the last one starts without a previous file
        if fresh:
            target.unlink()
        else:
            target.write_text(old, encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-c", EXPORT_CHILD, str(home), conversation, str(target)],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(home),
            cwd=REPO,
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            if delay:
                time.sleep(delay)  # not synchronisation: spreads the kills over the writes
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if not target.exists():
            assert fresh, "the old export disappeared"
            outcomes["none yet"] += 1
            continue
        content = target.read_text(encoding="utf-8")
        assert content in (old, new), f"attempt {attempt}: a truncated or mixed export ({len(content)} chars)"
        outcomes["old" if content == old else "new"] += 1
    assert outcomes["new"] >= 1 and outcomes["old"] + outcomes["none yet"] >= 1, outcomes

    # A killed writer may leave its temp file; the next write removes those older than an hour.
    leftovers = [p for p in out.iterdir() if p != target]
    assert all(p.name.startswith(".conversation.md.") and p.name.endswith(".tmp") for p in leftovers)
    an_hour_ago = time.time() - 3700
    for path in leftovers:
        os.utime(path, (an_hour_ago, an_hour_ago))
    history.export_markdown(conversation, target)
    assert [p.name for p in out.iterdir()] == ["conversation.md"]
    assert target.read_text(encoding="utf-8") == new


def test_a_normal_export_leaves_no_temp_file_and_keeps_permissions(tmp_path: Path, kb: Any) -> None:
    from copilot.core import Copilot
    from copilot.deal import deal_from_data
    from copilot.export import export_brief

    settings = Settings(home=tmp_path / "home")
    brief = Copilot.open(settings, kb).brief(deal_from_data({"scenario": "traceability"}, "test"))
    out = tmp_path / "briefs"
    for fmt in ("md", "json", "docx"):
        export_brief(brief, fmt, out / f"brief.{fmt}")
    assert sorted(p.name for p in out.iterdir()) == ["brief.docx", "brief.json", "brief.md"]
    assert (out / "brief.docx").read_bytes()[:2] == b"PK"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((out / "brief.md").stat().st_mode) == 0o666 & ~umask
    (out / "brief.md").chmod(0o640)
    export_brief(brief, "md", out / "brief.md")
    assert stat.S_IMODE((out / "brief.md").stat().st_mode) == 0o640


# -- a missing or damaged index ----------------------------------------------------------------------------
DRIVER = textwrap.dedent(
    """
    import json, os, sys, traceback
    from typer.testing import CliRunner

    cases = json.loads(sys.argv[1])
    from nego.cli import app

    def run(args, env):
        result = CliRunner().invoke(app, args, env=env)
        crash = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            crash = "".join(traceback.format_exception(result.exception))
        return {"code": result.exit_code, "output": result.output, "crash": crash}

    for case in cases:
        env = {"NEGO_HOME": case["home"], "NEGO_CORPUS_DIR": case["corpus"]}
        print(json.dumps({"case": case["name"], "started": True}), flush=True)
        out = {"case": case["name"]}
        out["search"] = run(["search", "沃尔玛芒果溯源"], env)
        out["ask"] = run(["ask", "What did Walmart cut the mango trace time to?"], env)
        out["doctor"] = run(["doctor"], env)
        if case["ui"]:
            out["ui"] = run(["ui", "--port", str(case["port"])], env)
        os.environ.update(env)
        try:
            from copilot.index.store import IndexUnavailableError
            from copilot.knowledge import KnowledgeBase, KnowledgeError
            from copilot.settings import Settings
            KnowledgeBase.open(Settings.load())
            out["kb"] = {"error": None}
        except (IndexUnavailableError, KnowledgeError) as exc:
            out["kb"] = {"error": str(exc), "kind": getattr(exc, "kind", "empty")}
        except Exception:
            out["kb"] = {"error": "crash", "crash": traceback.format_exc()}
        out["index"] = run(["index", "--rebuild"], env)
        out["search_after"] = run(["search", "沃尔玛芒果溯源", "--json"], env)
        print(json.dumps(out), flush=True)
    """
)


def _segment(home: Path) -> Path:
    (segment,) = [p for p in (home / "index" / "chroma").iterdir() if p.is_dir()]
    return segment


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)


def _garbage(path: Path, size: int) -> None:
    path.write_bytes(random.Random(3).randbytes(size))


def _replace_with_file(path: Path) -> None:
    shutil.rmtree(path)
    path.write_text("not a folder\n", encoding="utf-8")


def _empty_dir(path: Path) -> None:
    shutil.rmtree(path)
    path.mkdir()


def _garbage_link_size(home: Path) -> None:
    links = _segment(home) / "link_lists.bin"
    with links.open("r+b") as f:  # the first element's record size: what a torn persist leaves
        f.write(struct.pack("<I", 0x41B4C0DE))


CORRUPTIONS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "index folder deleted": ("empty", lambda home: shutil.rmtree(home / "index")),
    "chroma folder emptied": ("empty", lambda home: _empty_dir(home / "index" / "chroma")),
    "index is a file": ("damaged", lambda home: _replace_with_file(home / "index")),
    "chroma is a file": ("damaged", lambda home: _replace_with_file(home / "index" / "chroma")),
    "chroma.sqlite3 truncated": ("damaged", lambda home: _truncate(home / "index/chroma/chroma.sqlite3", 12288)),
    "chroma.sqlite3 garbage": ("damaged", lambda home: _garbage(home / "index/chroma/chroma.sqlite3", 1 << 20)),
    "chroma.sqlite3 empty": ("empty", lambda home: _truncate(home / "index/chroma/chroma.sqlite3", 0)),
    "vector segment deleted": ("damaged", lambda home: shutil.rmtree(_segment(home))),
    "vector header truncated": ("damaged", lambda home: _truncate(_segment(home) / "header.bin", 3)),
    "vector data truncated": ("damaged", lambda home: _truncate(_segment(home) / "data_level0.bin", 100_000)),
    "vector data garbage": ("damaged", lambda home: _garbage(_segment(home) / "data_level0.bin", 4096)),
    "link list size garbage": ("damaged", _garbage_link_size),
    "id map truncated": ("damaged", lambda home: _truncate(_segment(home) / "index_metadata.pickle", 10)),
}


def _free_port() -> int:
    """A port for `nego ui` (which must fail before binding it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tiny_corpus(root: Path) -> Path:
    corpus = root / "tiny-corpus"
    (corpus / "cases").mkdir(parents=True)
    for name in ("case-walmart-ibm-food-trust.md", "case-tradelens.md"):
        shutil.copy(SHIPPED_CORPUS / "cases" / name, corpus / "cases" / name)
    return corpus


def _drive(cases: list[dict[str, Any]], prefix: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run the driver over `cases` in one child process (behind `prefix`, e.g. setpriv); results by case name."""
    proc = subprocess.run(
        [*(prefix or []), sys.executable, "-c", DRIVER, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=1500,
        env=child_env(Path(cases[0]["home"])),
        cwd=REPO,
    )
    results: dict[str, dict[str, Any]] = {}
    started = None
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if event.get("started"):
            started = event["case"]
        else:
            results[event["case"]] = event
    assert proc.returncode == 0, (
        f"the process died in case {started!r} (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )
    return results


def _one_line(result: dict[str, Any]) -> str:
    lines = [line for line in result["output"].splitlines() if line.strip()]
    assert len(lines) == 1, result["output"]
    return str(lines[0])


def _check_case(name: str, kind: str, home: Path, results: dict[str, Any]) -> list[str]:
    """What is wrong with one case's results (empty: all good)."""
    chroma = home / "index" / "chroma"
    fix = "nego index --rebuild" if kind == "damaged" else "nego index"
    if kind == "permission":
        fix = "read and write access"
    problems = []
    for command in ("search", "ask", "doctor", "ui", "index", "search_after"):
        result = results.get(command)
        if result is not None and (result["crash"] or "Traceback" in result["output"]):
            problems.append(f"{command}: traceback\n{result['crash'] or result['output']}")
    if problems:
        return problems
    for command in ("search", "ask", *(("ui",) if "ui" in results else ())):
        result = results[command]
        line = _one_line(result) if result["output"].strip() else ""
        if result["code"] != 2 or str(chroma) not in line or fix not in line or not line.startswith("error: "):
            problems.append(f"{command}: exit {result['code']}: {result['output']!r}")
    doctor = results["doctor"]
    index_line = next((line for line in doctor["output"].splitlines() if " index: " in line), "")
    if (
        doctor["code"] != 1
        or not index_line.startswith("FAIL")
        or str(chroma) not in index_line
        or fix not in index_line
    ):
        problems.append(f"doctor: exit {doctor['code']}: {doctor['output']!r}")
    kb = results["kb"]
    if not kb["error"] or str(chroma) not in kb["error"] or fix not in kb["error"]:
        problems.append(f"KnowledgeBase.open: {kb}")
    index = results["index"]
    moved = sorted(p.name for p in home.rglob("*.broken-*"))
    if kind == "permission":
        if index["code"] != 2 or fix not in index["output"]:
            problems.append(f"index --rebuild without access: exit {index['code']}: {index['output']!r}")
        return problems
    if index["code"] != 0:
        problems.append(f"index --rebuild: exit {index['code']}: {index['output']!r}")
    if kind == "damaged" and ("moved it aside" not in index["output"] or not moved):
        problems.append(f"index --rebuild did not move the damaged index aside: {index['output']!r} {moved}")
    if kind == "empty" and moved:
        problems.append(f"an empty index was moved aside: {moved}")
    after = results["search_after"]
    if after["code"] != 0 or not json.loads(after["output"] or "[]"):
        problems.append(f"search after the rebuild: exit {after['code']}: {after['output']!r}")
    return problems


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_missing_or_damaged_index_gives_one_line_and_rebuild_recovers(tmp_path: Path, shipped_index: Any) -> None:
    """Table-driven: each way of breaking the index, through every command that opens it."""
    settings, _, _ = shipped_index
    corpus = _tiny_corpus(tmp_path)
    cases = []
    for name, (kind, corrupt) in CORRUPTIONS.items():
        home = tmp_path / re.sub(r"\W+", "-", name)
        shutil.copytree(Path(settings.home), home)
        corrupt(home)
        cases.append(
            {"name": name, "home": str(home), "corpus": str(corpus), "ui": kind != "empty", "port": _free_port()}
        )
    results = _drive(cases)
    failures = {}
    for name, (kind, _) in CORRUPTIONS.items():
        assert name in results, f"no result for {name}"
        found = _check_case(name, kind, tmp_path / re.sub(r"\W+", "-", name), results[name])
        if found:
            failures[name] = found
    assert not failures, "\n".join(f"{name}: {'; '.join(p)}" for name, p in failures.items())


PERMISSIONS = {
    "no access to the index folder": "index",
    "no access to the chroma folder": "index/chroma",
    "no access to chroma.sqlite3": "index/chroma/chroma.sqlite3",
}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_an_index_without_permissions_names_the_path_and_the_fix(tmp_path: Path, shipped_index: Any) -> None:
    """Permissions taken away: one line naming the path and the fix; `--rebuild` moves nothing (the data is
    fine), and with access given back the index works. root ignores permissions, so as root the commands
    run without the capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    settings, _, _ = shipped_index
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be taken away")
        caps = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
    corpus = _tiny_corpus(tmp_path)
    cases: list[dict[str, Any]] = []
    locked: list[tuple[Path, int]] = []
    for name, target in PERMISSIONS.items():
        home = tmp_path / re.sub(r"\W+", "-", name)
        shutil.copytree(Path(settings.home), home)
        cases.append({"name": name, "home": str(home), "corpus": str(corpus), "ui": True, "port": _free_port()})
        locked.append((home / target, stat.S_IMODE((home / target).stat().st_mode)))
    for path, _ in locked:
        path.chmod(0)
    try:
        results = _drive(cases, prefix)
    finally:
        for path, mode in locked:
            path.chmod(mode)
    failures = {
        case["name"]: found
        for case in cases
        if (found := _check_case(case["name"], "permission", Path(case["home"]), results[case["name"]]))
    }
    assert not failures, "\n".join(f"{name}: {'; '.join(p)}" for name, p in failures.items())
    assert not list(tmp_path.rglob("*.broken-*"))  # nothing was moved aside
    fixed = _drive([dict(case, ui=False) for case in cases], prefix)
    assert all(fixed[case["name"]]["search"]["code"] == 0 for case in cases), fixed
