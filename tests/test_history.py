"""Conversation history: SQLite in WAL mode, replies partial until done, owners, feedback, export, crash safety."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from copilot.corpus.models import Source
from copilot.history import History, HistoryError
from copilot.results import Citation, Notice
from copilot.settings import Settings

CITATION = Citation(
    doc_id="case-walmart-ibm-food-trust",
    chunk_id="case-walmart-ibm-food-trust:zh:001",
    title="沃尔玛与IBM Food Trust",
    type="case",
    sources=[Source(title="Hyperledger case study", url="https://example.org/walmart")],
    quote="芒果溯源时间：从约7天缩短到2.2秒。",
)


@pytest.fixture()
def history(tmp_path: Path) -> History:
    return History.open(Settings(home=tmp_path / "home"))


def _turn(history: History, conv: str, question: str, answer: str, owner: str = "") -> int:
    history.add_user_message(conv, question, owner)
    reply = history.start_reply(conv, owner)
    history.complete_reply(reply, answer, [CITATION], [Notice(kind="info", message="note")], "ask")
    return reply


def test_database_is_in_wal_mode_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    History.open(settings)
    path = settings.home_dir / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_turn_is_stored_with_citations_and_survives_reopening(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    history = History.open(settings)
    conv = history.create("沃尔玛芒果溯源", deal={"scenario": "traceability"})
    reply = _turn(history, conv.id, "沃尔玛芒果溯源从几天缩短到几秒？", "从约7天缩短到2.2秒。[1]")

    detail = History.open(settings).get(conv.id)  # a new instance: as after a restart
    assert [m.role for m in detail.messages] == ["user", "assistant"]
    stored = detail.messages[1]
    assert stored.id == reply and stored.status == "complete" and stored.skill == "ask"
    assert stored.citations == [CITATION]
    assert stored.notices[0].message == "note"
    assert detail.conversation.deal == {"scenario": "traceability"}


def test_a_reply_is_partial_until_complete_and_interrupted_keeps_its_text(history: History) -> None:
    conv = history.create("q")
    history.add_user_message(conv.id, "q")
    reply = history.start_reply(conv.id)
    assert history.get(conv.id).messages[1].status == "partial"
    history.save_partial(reply, "half of the")
    assert history.get(conv.id).messages[1].content == "half of the"
    history.interrupt_reply(reply, "half of the answer")
    message = history.get(conv.id).messages[1]
    assert (message.status, message.content) == ("interrupted", "half of the answer")
    with pytest.raises(HistoryError, match="already finished"):
        history.complete_reply(reply, "the whole answer", [], [])  # an interrupted reply is never made complete


def test_list_rename_delete(history: History) -> None:
    first = history.create("first")
    second = history.create("second")
    _turn(history, first.id, "q", "a")  # first is now the most recently updated
    assert [c.id for c in history.list_conversations()] == [first.id, second.id]
    assert history.list_conversations()[0].message_count == 2
    assert history.rename(second.id, "  renamed   title ").title == "renamed title"
    with pytest.raises(HistoryError):
        history.rename(second.id, "   ")
    history.delete(first.id)
    assert [c.id for c in history.list_conversations()] == [second.id]
    with pytest.raises(HistoryError, match="not found"):
        history.get(first.id)
    with sqlite3.connect(history.path) as conn:  # messages went with the conversation
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_conversations_are_private_to_their_owner(history: History) -> None:
    alice = history.create("alice's deal", owner="alice")
    reply = _turn(history, alice.id, "q", "a", owner="alice")
    assert history.list_conversations("bob") == []
    for call in (
        lambda: history.get(alice.id, "bob"),
        lambda: history.rename(alice.id, "x", "bob"),
        lambda: history.delete(alice.id, "bob"),
        lambda: history.add_user_message(alice.id, "x", "bob"),
        lambda: history.set_feedback(reply, rating=1, owner="bob"),
    ):
        with pytest.raises(HistoryError, match="not found"):
            call()
    assert history.get(alice.id, "alice").conversation.title == "alice's deal"


def test_feedback_thumbs_and_comment(history: History) -> None:
    conv = history.create("q")
    reply = _turn(history, conv.id, "q", "a")
    assert history.set_feedback(reply, rating=1).rating == 1
    feedback = history.set_feedback(reply, comment="  useful, but cite the policy too ")
    assert (feedback.rating, feedback.comment) == (1, "useful, but cite the policy too")  # the rating is kept
    assert history.set_feedback(reply, rating=-1).comment == "useful, but cite the policy too"
    stored = history.get(conv.id).messages[1].feedback
    assert stored is not None and (stored.rating, stored.comment) == (-1, "useful, but cite the policy too")
    user_message = history.get(conv.id).messages[0].id
    with pytest.raises(HistoryError, match="replies"):
        history.set_feedback(user_message, rating=1)
    with pytest.raises(HistoryError, match="rating"):
        history.set_feedback(reply, rating=5)  # type: ignore[arg-type]


def test_export_markdown_is_written_atomically_and_marks_unfinished_replies(history: History, tmp_path: Path) -> None:
    conv = history.create("沃尔玛芒果溯源", deal={"customer": "鲜果供应链集团", "scenario": "traceability"})
    reply = _turn(history, conv.id, "沃尔玛芒果溯源从几天缩短到几秒？", "从约7天缩短到2.2秒。[1]")
    history.set_feedback(reply, rating=1, comment="好")
    history.add_user_message(conv.id, "那欧盟呢？")
    cut = history.start_reply(conv.id)
    history.interrupt_reply(cut, "欧盟的")

    target = tmp_path / "out" / "conversation.md"
    target.parent.mkdir()
    target.write_text("old content", encoding="utf-8")
    history.export_markdown(conv.id, target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# 沃尔玛芒果溯源\n")
    assert "鲜果供应链集团" in text
    assert text.index("沃尔玛芒果溯源从几天缩短到几秒？") < text.index("从约7天缩短到2.2秒") < text.index("那欧盟呢？")
    assert "[1] 沃尔玛与IBM Food Trust (case) — [Hyperledger case study](https://example.org/walmart)" in text
    assert "反馈 / Feedback: 👍 好" in text
    assert "回复被中断" in text and "欧盟的" in text
    assert [p.name for p in target.parent.iterdir()] == ["conversation.md"]  # no temp file left behind


def test_a_killed_process_leaves_the_reply_partial_not_lost(tmp_path: Path) -> None:
    """kill -9 mid-reply: the user's message and the text flushed so far are kept; the reply is marked partial."""
    home = tmp_path / "home"
    script = textwrap.dedent(
        f"""
        import os, signal
        from copilot.history import History
        from copilot.settings import Settings
        h = History.open(Settings(home={str(home)!r}))
        c = h.create("q")
        h.add_user_message(c.id, "what happened to TradeLens?")
        r = h.start_reply(c.id)
        h.save_partial(r, "TradeLens was")
        print(c.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == -9, done.stderr
    conv_id = done.stdout.strip()
    messages = History.open(Settings(home=home)).get(conv_id).messages
    assert [(m.role, m.status, m.content) for m in messages] == [
        ("user", "complete", "what happened to TradeLens?"),
        ("assistant", "partial", "TradeLens was"),
    ]


def test_a_database_that_is_not_sqlite_gives_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="history database cannot be used"):
        History.open(Settings(home=home))
