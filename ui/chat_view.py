"""A conversation as the chat shows it, kept between turns: a turn costs the same at message 50 as at message 2.

Stored messages are rendered for the chat (each citation once, numbered, the [n] in a reply linked to it,
an unfinished reply marked as such) and turned into the Chatbot's own messages (`Shape`: the component's
postprocess) once. The view of a conversation is kept, with the stored version it mirrors
(copilot.history.History.version: message count, last id, last update), so a turn reads one row of
SQLite instead of the whole conversation and Gradio passes the already-built messages through instead
of validating each again. When the stored version moved (another tab wrote to the conversation, a
reply was stopped), the view is read and rendered again from the history: the history stays the truth.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from copilot.core import ChatTurn
from copilot.history import History, HistoryError, Message
from copilot.text.lang import detect_language
from ui.labels import ui_text
from ui.render import citation_message, linked_markers, safe_md, unique_citations, without_sources

Shape = Callable[[list[dict[str, Any]]], list[Any]]
"""Chat messages as dicts -> what the Chatbot is given (its own message objects in the app; the dicts in tests)."""

Version = tuple[int, int, str]

VIEWS_KEPT = 256
"""Conversations whose view is kept (least recently used out first): a few per rep of a team."""


def reply_messages(message: Message, lang: str) -> list[dict[str, Any]]:
    """A reply and its citations: once each (one per document), numbered, the [n] in the text linked to them."""
    citations = unique_citations(message.citations)
    text = linked_markers(safe_md(without_sources(message.content)), len(citations))
    if message.status in ("partial", "interrupted"):  # told in the conversation's language
        text += "\n\n> " + ui_text(lang, f"chat.status_{message.status}")
    out = [{"role": "assistant", "content": text or "…"}]
    out += [citation_message(n, c, lang) for n, c in enumerate(citations, 1)]
    return out


def render_messages(messages: list[Message]) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Chatbot messages for stored messages, and for each the id of the reply it belongs to (for feedback)."""
    shown: list[dict[str, Any]] = []
    ids: list[int | None] = []
    lang = "zh"
    for message in messages:
        if message.role == "user":
            lang = detect_language(message.content, default=lang)
            shown.append({"role": "user", "content": safe_md(message.content)})
            ids.append(None)
        else:
            parts = reply_messages(message, lang)
            shown += parts
            ids += [message.id] * len(parts)
    return shown, ids


def history_turns(messages: Sequence[Message]) -> list[ChatTurn]:
    """What the copilot is told of earlier turns: the user's messages and the replies that finished."""
    return [ChatTurn(role=m.role, content=m.content) for m in messages if m.role == "user" or m.status == "complete"]


@dataclass(frozen=True)
class ChatView:
    """One conversation as shown, and what it mirrors."""

    owner: str
    version: Version
    shown: tuple[Any, ...]
    """The Chatbot's messages (the Shape's output)."""
    ids: tuple[int | None, ...]
    """Per shown message, the id of the reply it belongs to (None for the user's messages)."""
    turns: tuple[ChatTurn, ...]
    """What the copilot is told of earlier turns."""


EMPTY_VERSION: Version = (0, 0, "")


class ChatViews:
    """The kept views of the conversations (thread-safe; every session of the app shares them)."""

    def __init__(self, history: History, shape: Shape = list, size: int = VIEWS_KEPT) -> None:
        self.history = history
        self.shape = shape
        self.size = size
        self._views: OrderedDict[str, ChatView] = OrderedDict()
        self._lock = threading.Lock()

    def empty(self, owner: str) -> ChatView:
        return ChatView(owner, EMPTY_VERSION, (), (), ())

    def get(self, conversation_id: str, owner: str) -> ChatView:
        """The conversation as stored now (raises HistoryError when it is not the owner's or does not exist)."""
        version = self.history.version(conversation_id, owner)
        with self._lock:
            view = self._views.get(conversation_id)
            if view is not None and view.version == version and view.owner == owner:
                self._views.move_to_end(conversation_id)
                return view
        # Read after the version: a write in between makes the view newer than its version, so the next
        # turn reads it again; it never makes a view look newer than it is.
        messages = self.history.get(conversation_id, owner).messages
        dicts, ids = render_messages(messages)
        view = ChatView(owner, version, tuple(self.shape(dicts)), tuple(ids), tuple(history_turns(messages)))
        self._keep(conversation_id, view)
        return view

    def after_turn(
        self,
        conversation_id: str,
        before: ChatView,
        added: Sequence[Message],
        shown: Sequence[Any],
        ids: Sequence[int | None],
    ) -> None:
        """Keep the view after a turn stored `added` (the user's message and the reply) and showed `shown`.

        Kept only when the history holds exactly those messages on top of `before`: anything else
        written meanwhile (another tab) makes the next turn read the conversation again.
        """
        try:
            version = self.history.version(conversation_id, before.owner)
        except HistoryError:  # the conversation went away: nothing to keep
            self.forget(conversation_id)
            return
        count, last_id, _ = version
        if not added or count != before.version[0] + len(added) or last_id != added[-1].id:
            self.forget(conversation_id)
            return
        turns = (*before.turns, *history_turns(added))
        view = ChatView(before.owner, version, (*before.shown, *shown), (*before.ids, *ids), turns)
        self._keep(conversation_id, view)

    def forget(self, conversation_id: str) -> None:
        with self._lock:
            self._views.pop(conversation_id, None)

    def _keep(self, conversation_id: str, view: ChatView) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._views[conversation_id] = view
            self._views.move_to_end(conversation_id)
            while len(self._views) > self.size:
                self._views.popitem(last=False)
