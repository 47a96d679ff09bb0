"""Conversation history: SQLite under NEGO_HOME, safe against a crash mid-reply.

Why it is built this way:

- WAL mode and one short transaction per write (a message, an update of a reply
  being streamed, a rename…), so a reader never sees half a message and a
  `kill -9` loses at most the text streamed since the last flush.
- A reply is inserted as `partial` before the first word is streamed and set
  to `complete` only when the copilot is done. A stream that stops (the user
  pressed stop, the browser went away, an error) is marked `interrupted` with
  the text it had; a process that dies leaves it `partial`. Either way the
  reply is shown as unfinished, never as if it were complete.
- Every conversation has an owner (the logged-in user, "" without login) and
  every call checks it, so with login on nobody sees another user's history.
- A new connection per call: the UI calls from many worker threads, and a
  sqlite3 connection must not be shared between threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from copilot.export import write_atomic
from copilot.history_markdown import conversation_markdown
from copilot.history_models import (
    Conversation,
    ConversationDetail,
    Feedback,
    HistoryError,
    Message,
    Rating,
    Role,
    Status,
)
from copilot.results import Citation, Notice
from copilot.settings import Settings

__all__ = [
    "Conversation",
    "ConversationDetail",
    "Feedback",
    "History",
    "HistoryError",
    "Message",
    "Rating",
    "conversation_markdown",
]

SCHEMA_VERSION = 1
MAX_TITLE_CHARS = 80
MAX_COMMENT_CHARS = 2000
BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    deal TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated_at);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('partial', 'interrupted', 'complete')),
    skill TEXT,
    citations TEXT NOT NULL DEFAULT '[]',
    notices TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS feedback (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    rating INTEGER CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
"""


def _now() -> str:
    # Microseconds: conversations are listed by their last update, often several in one second.
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _title(text: str) -> str:
    words = " ".join(text.split())
    if not words:
        raise HistoryError("a conversation title cannot be empty")
    return words if len(words) <= MAX_TITLE_CHARS else words[: MAX_TITLE_CHARS - 1] + "…"


class History:
    """All conversations of one NEGO_HOME."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"{path.parent}: cannot create the data directory: {exc.strerror or exc}") from exc
        try:
            with contextlib.closing(self._connect()) as conn:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise HistoryError(f"{path}: cannot switch the history database to WAL mode (got {mode})")
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    raise HistoryError(
                        f"{path}: written by a newer version (schema {version}); upgrade nego to read it"
                    )
                # One transaction: a process killed while creating the schema leaves none of it.
                conn.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{path}: the history database cannot be used: {exc}") from exc

    @classmethod
    def open(cls, settings: Settings) -> History:
        return cls(settings.home_dir / "history.sqlite3")

    # -- plumbing ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a process crash loses no commit
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none of it."""
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: cannot open the history database: {exc}") from exc
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: history write failed: {exc}") from exc
        finally:
            conn.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: cannot open the history database: {exc}") from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: history read failed: {exc}") from exc
        finally:
            conn.close()

    @staticmethod
    def _owned(conn: sqlite3.Connection, conversation_id: str, owner: str) -> sqlite3.Row:
        row = conn.execute(
            "SELECT * FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
        ).fetchone()
        if row is None:
            raise HistoryError(f"conversation {conversation_id!r} not found")
        return row  # type: ignore[no-any-return]

    @staticmethod
    def _conversation(row: sqlite3.Row, count: int) -> Conversation:
        return Conversation(
            id=row["id"],
            owner=row["owner"],
            title=row["title"],
            deal=json.loads(row["deal"]) if row["deal"] else None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            message_count=count,
        )

    # -- conversations ----------------------------------------------------------------------------
    def create(self, title: str, owner: str = "", deal: dict[str, Any] | None = None) -> Conversation:
        now = _now()
        conversation_id = uuid.uuid4().hex
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO conversations (id, owner, title, deal, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    owner,
                    _title(title),
                    json.dumps(deal, ensure_ascii=False) if deal else None,
                    now,
                    now,
                ),
            )
        return self.get(conversation_id, owner).conversation

    def list_conversations(self, owner: str = "", limit: int = 200) -> list[Conversation]:
        """The owner's conversations, most recently updated first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS n "
                "FROM conversations c WHERE owner = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [self._conversation(row, int(row["n"])) for row in rows]

    def titles(self, owner: str = "", limit: int = 200) -> list[tuple[str, str, str]]:
        """(id, title, updated_at) of the owner's conversations, most recently updated first: the list of
        `list_conversations` without reading each one's deal and message count (the app refreshes it every turn)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, title, updated_at FROM conversations WHERE owner = ? "
                "ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [(str(r["id"]), str(r["title"]), str(r["updated_at"])) for r in rows]

    def version(self, conversation_id: str, owner: str = "") -> tuple[int, int, str]:
        """What changes whenever a message of the conversation is added or updated: (messages, last id, last
        update). One query, to tell whether a copy of the messages kept elsewhere is still what is stored."""
        with self._read() as conn:
            self._owned(conn, conversation_id, owner)
            row = conn.execute(
                "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(MAX(updated_at), '') FROM messages "
                "WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
        return int(row[0]), int(row[1]), str(row[2])

    def get(self, conversation_id: str, owner: str = "") -> ConversationDetail:
        """A conversation with its messages in order (this is also how a conversation is resumed)."""
        with self._read() as conn:
            row = self._owned(conn, conversation_id, owner)
            rows = conn.execute(
                "SELECT m.*, f.rating AS f_rating, f.comment AS f_comment FROM messages m "
                "LEFT JOIN feedback f ON f.message_id = m.id WHERE m.conversation_id = ? ORDER BY m.id",
                (conversation_id,),
            ).fetchall()
        messages = [self._message(r) for r in rows]
        return ConversationDetail(conversation=self._conversation(row, len(messages)), messages=messages)

    def rename(self, conversation_id: str, title: str, owner: str = "") -> Conversation:
        with self._tx() as conn:
            self._owned(conn, conversation_id, owner)
            conn.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                (_title(title), _now(), conversation_id),
            )
        return self.get(conversation_id, owner).conversation

    def set_deal(self, conversation_id: str, deal: dict[str, Any] | None, owner: str = "") -> None:
        with self._tx() as conn:
            self._owned(conn, conversation_id, owner)
            conn.execute(
                "UPDATE conversations SET deal = ? WHERE id = ?",
                (json.dumps(deal, ensure_ascii=False) if deal else None, conversation_id),
            )

    def delete(self, conversation_id: str, owner: str = "") -> None:
        """Delete a conversation with its messages and feedback."""
        with self._tx() as conn:
            self._owned(conn, conversation_id, owner)
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- messages ---------------------------------------------------------------------------------
    @staticmethod
    def _message(row: sqlite3.Row) -> Message:
        feedback = None
        if row["f_rating"] is not None or row["f_comment"]:
            feedback = Feedback(rating=row["f_rating"], comment=row["f_comment"] or "")
        return Message(
            id=row["id"],
            conversation_id=row["conversation_id"],
            role=row["role"],
            content=row["content"],
            status=row["status"],
            skill=row["skill"],
            citations=[Citation.model_validate(c) for c in json.loads(row["citations"])],
            notices=[Notice.model_validate(n) for n in json.loads(row["notices"])],
            created_at=row["created_at"],
            feedback=feedback,
        )

    def _insert(self, conversation_id: str, owner: str, role: Role, content: str, status: Status) -> int:
        now = _now()
        with self._tx() as conn:
            self._owned(conn, conversation_id, owner)
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, status, now, now),
            )
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
            return int(cursor.lastrowid or 0)

    def add_user_message(self, conversation_id: str, content: str, owner: str = "") -> int:
        return self._insert(conversation_id, owner, "user", content, "complete")

    def start_reply(self, conversation_id: str, owner: str = "") -> int:
        """Store an empty assistant reply marked `partial` before anything is streamed."""
        return self._insert(conversation_id, owner, "assistant", "", "partial")

    def _update_reply(self, message_id: int, values: dict[str, Any], only_partial: bool = True) -> None:
        columns = ", ".join(f"{name} = ?" for name in values)
        condition = " AND status = 'partial'" if only_partial else ""
        with self._tx() as conn:
            cursor = conn.execute(
                f"UPDATE messages SET {columns}, updated_at = ? WHERE id = ? AND role = 'assistant'{condition}",
                (*values.values(), _now(), message_id),
            )
            if cursor.rowcount != 1:
                raise HistoryError(f"reply {message_id} not found, or already finished")

    def save_partial(self, message_id: int, content: str) -> None:
        """Store the text streamed so far (the reply stays `partial`)."""
        self._update_reply(message_id, {"content": content})

    def complete_reply(
        self,
        message_id: int,
        content: str,
        citations: list[Citation],
        notices: list[Notice],
        skill: str | None = None,
    ) -> None:
        self._update_reply(
            message_id,
            {
                "content": content,
                "status": "complete",
                "skill": skill,
                "citations": json.dumps([c.model_dump(mode="json") for c in citations], ensure_ascii=False),
                "notices": json.dumps([n.model_dump(mode="json") for n in notices], ensure_ascii=False),
            },
        )

    def interrupt_reply(self, message_id: int, content: str) -> None:
        """The stream stopped before the copilot finished: keep what arrived, marked `interrupted`."""
        self._update_reply(message_id, {"content": content, "status": "interrupted"})

    # -- feedback ---------------------------------------------------------------------------------
    def set_feedback(
        self, message_id: int, rating: Rating | None = None, comment: str | None = None, owner: str = ""
    ) -> Feedback:
        """Thumbs up (1) / down (-1) and an optional comment on an assistant message; None keeps a value as is."""
        if rating not in (None, 1, -1):
            raise HistoryError(f"a rating is 1 (thumbs up) or -1 (thumbs down), got {rating!r}")
        with self._tx() as conn:
            row = conn.execute(
                "SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.id = ? AND c.owner = ?",
                (message_id, owner),
            ).fetchone()
            if row is None:
                raise HistoryError(f"message {message_id} not found")
            if row["role"] != "assistant":
                raise HistoryError("feedback is given on the copilot's replies, not on your own messages")
            old = conn.execute("SELECT rating, comment FROM feedback WHERE message_id = ?", (message_id,)).fetchone()
            new_rating = rating if rating is not None else (old["rating"] if old else None)
            if comment is None:
                new_comment = str(old["comment"]) if old else ""
            else:
                new_comment = comment.strip()[:MAX_COMMENT_CHARS]
            conn.execute(
                "INSERT INTO feedback (message_id, rating, comment, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(message_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, "
                "updated_at = excluded.updated_at",
                (message_id, new_rating, new_comment, _now()),
            )
        return Feedback(rating=new_rating, comment=new_comment)

    # -- export -----------------------------------------------------------------------------------
    def to_markdown(self, conversation_id: str, owner: str = "") -> str:
        return conversation_markdown(self.get(conversation_id, owner))

    def export_markdown(self, conversation_id: str, path: Path, owner: str = "") -> Path:
        """Write the conversation as Markdown, atomically (temp file + rename)."""
        text = self.to_markdown(conversation_id, owner)

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        return write_atomic(path, write)
