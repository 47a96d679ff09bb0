"""ui/chat_view.py: a turn shows the conversation as stored without reading it back, and sees other writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from samples import deal_for
from ui_support import clone_shipped_index, deal_fields

from copilot.history import History
from ui.chat import stream_reply
from ui.chat_view import ChatViews, render_messages
from ui.context import AppContext


@pytest.fixture(scope="module")
def ctx(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> AppContext:
    settings, store = clone_shipped_index(shipped_index, tmp_path_factory.mktemp("chat-view"))
    return AppContext.open(settings, store)


def _turn(ctx: AppContext, views: ChatViews, message: str, conversation: str | None) -> tuple[Any, ...]:
    *_, final = stream_reply(ctx, message, conversation, deal_fields(deal_for("traceability", "zh")), "", views)
    return final


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the reads of whole conversations (History.get)."""
    reads: list[str] = []
    original = History.get

    def counted(self: History, conversation_id: str, owner: str = "") -> Any:
        reads.append(conversation_id)
        return original(self, conversation_id, owner)

    monkeypatch.setattr(History, "get", counted)
    return reads


def test_turns_show_what_is_stored_without_reading_the_conversation_back(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = ChatViews(ctx.history)
    final = _turn(ctx, views, "帮我列一下这个项目的主要风险", None)
    conversation = final[2]["value"]
    reads = _reads(monkeypatch)
    for message in ("What did TradeLens fail at?", "给这个项目做一个分阶段的实施计划"):
        final = _turn(ctx, views, message, conversation)
    assert reads == []  # two more turns, the conversation never read back whole
    shown, ids = render_messages(ctx.history.get(conversation).messages)
    assert final[0] == shown and final[4] == ids  # exactly what rendering the stored conversation shows
    assert [m["role"] for m in shown].count("user") == 3


def test_a_message_written_elsewhere_is_shown_on_the_next_turn(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    views = ChatViews(ctx.history)
    final = _turn(ctx, views, "TradeLens 为什么关停了？", None)
    conversation = final[2]["value"]
    ctx.history.add_user_message(conversation, "another tab asked this", "")  # e.g. the same rep in a second tab
    reads = _reads(monkeypatch)
    final = _turn(ctx, views, "How did Marco Polo end, and why?", conversation)
    assert reads == [conversation]  # the stored version moved: read again
    assert any(m["content"] == "another tab asked this" for m in final[0])
    shown, ids = render_messages(ctx.history.get(conversation).messages)
    assert final[0] == shown and final[4] == ids


def test_views_are_kept_per_owner_and_bounded(ctx: AppContext) -> None:
    views = ChatViews(ctx.history, size=2)
    ids = [ctx.history.create(f"c{n}", "rep-a").id for n in range(3)]
    for conversation in ids:
        views.get(conversation, "rep-a")
    assert list(views._views) == ids[1:]  # the least recently used went first
    with pytest.raises(Exception, match="not found"):
        views.get(ids[2], "rep-b")  # another owner's conversation is refused, kept view or not
