"""The chat tab: streamed replies with citations, the deal panel, conversations and feedback.

Each turn is stored as it happens (copilot.history): the user's message, then
the reply as `partial` before the first word, its text flushed while it
streams, and `complete` with its citations when the copilot is done. A stream
that stops early is marked `interrupted`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from copilot.core import EMPTY_MESSAGE, ChatTurn
from copilot.deal import DealError
from copilot.history import ConversationDetail, HistoryError, Message, Rating
from copilot.inputs import prepare_text
from copilot.results import Citation, Notice
from copilot.text.lang import detect_language
from ui.context import AppContext
from ui.deal_form import DealForm, deal_form, deal_from_values, form_values, values_from_deal
from ui.render import citation_message, notices_md, safe_md

log = logging.getLogger("ui.chat")

FLUSH_INTERVAL_S = 0.5
"""How often the text of a reply being streamed is written to the history (at most)."""

REDRAW_INTERVAL_S = 0.1
"""How often the reply being streamed is redrawn (at most). Every update makes Gradio post-process and
send the whole conversation: redrawing per piece cost ~75% of the app's CPU under load (bench/load.py)."""

EXAMPLES = [
    "沃尔玛芒果溯源从几天缩短到几秒？",
    "客户说：为什么不直接用一个共享数据库？",
    "帮我列一下这个项目的主要风险",
    "What did TradeLens fail at, and what should I not claim about it?",
    "Explain hash anchoring to a CFO in business terms",
    "Draft a milestone plan for this deal",
]
_STATUS_NOTE = {
    "partial": "\n\n> ⚠ 回复未完成（应用中途停止）/ Reply unfinished: the app stopped while writing it",
    "interrupted": "\n\n> ⚠ 回复被中断，以上为部分内容 / Reply interrupted: what is above is partial",
}


def owner_of(request: gr.Request | None) -> str:
    """The logged-in user ("" without login): conversations are kept per user."""
    return str(getattr(request, "username", None) or "")


def _reply_messages(message: Message, lang: str) -> list[dict[str, Any]]:
    text = safe_md(message.content) + _STATUS_NOTE.get(message.status, "")
    out = [{"role": "assistant", "content": text or "…"}]
    out += [citation_message(n, c, lang) for n, c in enumerate(message.citations, 1)]
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
            parts = _reply_messages(message, lang)
            shown += parts
            ids += [message.id] * len(parts)
    return shown, ids


def conversation_choices(ctx: AppContext, owner: str) -> list[tuple[str, str]]:
    return [(f"{c.title} · {c.updated_at[:16].replace('T', ' ')}", c.id) for c in ctx.history.list_conversations(owner)]


def _dropdown(ctx: AppContext, owner: str, value: str | None) -> Any:
    return gr.Dropdown(choices=conversation_choices(ctx, owner), value=value or None)


def _history_turns(detail: ConversationDetail) -> list[ChatTurn]:
    """What the copilot is told of earlier turns: the user's messages and the replies that finished."""
    return [
        ChatTurn(role=m.role, content=m.content) for m in detail.messages if m.role == "user" or m.status == "complete"
    ]


def stream_reply(
    ctx: AppContext, message: str, conversation_id: str | None, deal_values: dict[str, Any], owner: str
) -> Iterator[tuple[list[dict[str, Any]], str, Any, str, list[int | None]]]:
    """One chat turn: yields (chatbot, textbox, conversation dropdown, notices, reply ids) as the reply streams.

    The message is cleaned and cut first (copilot.inputs.prepare_text, as the copilot would): an empty one
    is refused with a message and nothing is stored; otherwise what is stored and answered is the prepared
    text, and the notices saying what was removed or cut are shown and kept with the reply.
    """
    prepared = prepare_text(message or "", ctx.settings)
    if prepared.empty:
        yield gr.skip(), gr.skip(), gr.skip(), "⚠ " + EMPTY_MESSAGE, gr.skip()
        return
    text = prepared.text
    notes: list[str] = []
    lang = detect_language(text, default=ctx.settings.language)
    try:
        deal = deal_from_values(deal_values, lang)
    except DealError as exc:
        yield (
            gr.skip(),
            gr.skip(),
            gr.skip(),
            "⚠ 交易信息有误 / The deal panel has a problem:\n\n" + safe_md(str(exc)),
            gr.skip(),
        )
        return
    deal_data = deal.model_dump(mode="json")
    history = ctx.history
    try:
        if conversation_id:
            history.set_deal(conversation_id, deal_data, owner)
            detail = history.get(conversation_id, owner)
        else:
            conversation = history.create(text, owner, deal_data)
            conversation_id = conversation.id
            detail = history.get(conversation_id, owner)
        history.add_user_message(conversation_id, text, owner)
        reply_id = history.start_reply(conversation_id, owner)
    except HistoryError as exc:
        yield gr.skip(), gr.skip(), gr.skip(), "⚠ " + safe_md(str(exc)), gr.skip()
        return

    shown, ids = render_messages(detail.messages)
    shown.append({"role": "user", "content": safe_md(text)})
    ids.append(None)
    dropdown = _dropdown(ctx, owner, conversation_id)
    reply = ""
    citations: list[Citation] = []
    notices: list[Notice] = list(prepared.notices)
    skill: str | None = None
    finished = False
    last_flush = time.monotonic()

    def view(extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        return [*shown, {"role": "assistant", "content": safe_md(reply) or "…"}, *(extra or [])]

    yield view(), "", dropdown, notices_md(notices), [*ids, reply_id]
    last_redraw = time.monotonic()
    try:
        for event in ctx.copilot.chat(text, _history_turns(detail), deal):
            if event.kind in ("text", "replace") and event.text is not None:
                reply = event.text if event.kind == "replace" else reply + event.text  # replace: the checked answer
                now = time.monotonic()
                if now - last_flush >= FLUSH_INTERVAL_S:
                    history.save_partial(reply_id, reply)
                    last_flush = now
                if now - last_redraw >= REDRAW_INTERVAL_S:
                    last_redraw = now
                    yield view(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            elif event.kind == "route" and event.skill:
                skill = event.skill
            elif event.kind == "citations":
                citations = event.citations
            elif event.kind == "notice" and event.notice:
                notices.append(event.notice)
        history.complete_reply(reply_id, reply, citations, notices, skill)
        finished = True
    except Exception as exc:  # the user sees a short message; the log has the details
        log.exception("chat turn failed")
        notes.append(f"⚠ 回答出错，已保存部分内容 / The reply failed ({type(exc).__name__}); the partial text is kept")
    finally:
        if not finished:
            try:
                history.interrupt_reply(reply_id, reply)
            except HistoryError:
                log.exception("could not mark the reply as interrupted")
    # The stored reply is exactly this one: redraw from what is in hand rather than reading the
    # whole conversation back (its cost grows with the conversation's length).
    stored = Message(
        id=reply_id,
        conversation_id=conversation_id,
        role="assistant",
        content=reply,
        status="complete" if finished else "interrupted",
        skill=skill,
        citations=citations,
        notices=notices,
        created_at="",
    )
    parts = _reply_messages(stored, lang)
    summary = notes + ([notices_md(notices)] if notices else [])
    yield (
        [*shown, *parts],
        gr.skip(),
        _dropdown(ctx, owner, conversation_id),
        "\n".join(summary),
        [*ids, *[reply_id] * len(parts)],
    )


@dataclass
class ChatTab:
    form: DealForm
    conversation: gr.Dropdown
    conversations: Callable[[gr.Request], Any]
    """Fills the conversation list (run when a page loads)."""


def build_chat_tab(ctx: AppContext) -> ChatTab:
    """The chat tab's components and events."""
    reply_ids = gr.State([])
    feedback_target = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=220):
            gr.Markdown("#### 对话 Conversations")
            conversation = gr.Dropdown(
                choices=[], value=None, label="继续对话 Resume", elem_id="conversation", allow_custom_value=True
            )
            with gr.Row():
                new_btn = gr.Button("新对话 New", size="sm", elem_id="new-conversation")
                delete_btn = gr.Button("删除 Delete", size="sm", variant="stop", elem_id="delete-conversation")
            rename_box = gr.Textbox(label="重命名 Rename", placeholder="新标题 / new title", elem_id="rename-box")
            rename_btn = gr.Button("重命名 Rename", size="sm")
            export_btn = gr.Button("导出 Markdown Export", size="sm", elem_id="export-conversation")
            export_file = gr.File(label="导出文件 Export", interactive=False, height=90, elem_id="export-file")
        with gr.Column(scale=3, min_width=420):
            chatbot = gr.Chatbot(
                label="谈判助手 Copilot",
                elem_id="chatbot",
                height=560,
                buttons=["copy"],
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=("Like", "Dislike"),
                group_consecutive_messages=True,
            )
            notices = gr.Markdown("", elem_id="chat-notices")
            with gr.Row():
                message = gr.Textbox(
                    placeholder="用中文或英文提问 / Ask in Chinese or English (Enter to send)",
                    show_label=False,
                    scale=6,
                    elem_id="chat-input",
                    max_lines=6,
                )
                send = gr.Button("发送 Send", variant="primary", scale=1, elem_id="chat-send")
                stop = gr.Button("停止 Stop", scale=1, elem_id="chat-stop")
            gr.Examples([[e] for e in EXAMPLES], inputs=[message], label="示例 Examples")
            with gr.Row():
                comment = gr.Textbox(
                    label="反馈意见 Feedback comment (on the reply you rated, else the last one)",
                    scale=5,
                    elem_id="feedback-comment",
                )
                comment_btn = gr.Button("提交反馈 Send feedback", scale=1, elem_id="feedback-send")
            feedback_status = gr.Markdown("", elem_id="feedback-status")
        with gr.Column(scale=1, min_width=260):
            gr.Markdown("#### 交易 Deal\n每一轮对话都会使用 / used by every turn")
            form = deal_form("deal")

    deal_inputs = form.components()

    def chat(
        message: str,
        conversation_id: str | None,
        customer: str,
        industry: str,
        scenario: str,
        region: str,
        language: str,
        audience: str,
        pains: str,
        goals: str,
        systems: str,
        budget: str,
        timeline: str,
        stage: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        values = form_values(
            customer, industry, scenario, region, language, audience, pains, goals, systems, budget, timeline, stage
        )
        yield from stream_reply(ctx, message, conversation_id, values, owner_of(request))

    chat_outputs = [chatbot, message, conversation, notices, reply_ids]
    submit_event = message.submit(
        chat, [message, conversation, *deal_inputs], chat_outputs, api_name="chat", concurrency_id="copilot"
    )
    click_event = send.click(
        chat, [message, conversation, *deal_inputs], chat_outputs, api_visibility="private", concurrency_id="copilot"
    )
    stop.click(None, None, None, cancels=[submit_event, click_event], api_visibility="private")

    def resume(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        owner = owner_of(request)
        if not conversation_id:
            return [], [], "", *values_from_deal(None)
        try:
            detail = ctx.history.get(conversation_id, owner)
        except HistoryError as exc:
            return gr.skip(), gr.skip(), "⚠ " + safe_md(str(exc)), *values_from_deal(None)
        shown, ids = render_messages(detail.messages)
        return shown, ids, "", *values_from_deal(detail.conversation.deal)

    conversation.input(resume, [conversation], [chatbot, reply_ids, notices, *deal_inputs], api_name="resume")

    def conversations(request: gr.Request) -> Any:
        return _dropdown(ctx, owner_of(request), None)

    def new_conversation(request: gr.Request) -> tuple[Any, ...]:
        return _dropdown(ctx, owner_of(request), None), [], [], ""

    new_btn.click(new_conversation, None, [conversation, chatbot, reply_ids, notices], api_name="new_conversation")

    def rename(conversation_id: str | None, title: str, request: gr.Request) -> tuple[Any, ...]:
        owner = owner_of(request)
        if not conversation_id:
            return gr.skip(), "⚠ 请先选择对话 / Choose a conversation first", gr.skip()
        try:
            ctx.history.rename(conversation_id, title, owner)
        except HistoryError as exc:
            return gr.skip(), "⚠ " + safe_md(str(exc)), gr.skip()
        return _dropdown(ctx, owner, conversation_id), "已重命名 / Renamed", ""

    rename_btn.click(
        rename, [conversation, rename_box], [conversation, notices, rename_box], api_name="rename_conversation"
    )

    def delete(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        owner = owner_of(request)
        if not conversation_id:
            return gr.skip(), gr.skip(), gr.skip(), "⚠ 请先选择对话 / Choose a conversation first"
        try:
            ctx.history.delete(conversation_id, owner)
        except HistoryError as exc:
            return gr.skip(), gr.skip(), gr.skip(), "⚠ " + safe_md(str(exc))
        return _dropdown(ctx, owner, None), [], [], "已删除 / Deleted"

    delete_btn.click(
        delete, [conversation], [conversation, chatbot, reply_ids, notices], api_name="delete_conversation"
    )

    def export(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not conversation_id:
            return None, "⚠ 请先选择对话 / Choose a conversation first"
        try:
            detail = ctx.history.get(conversation_id, owner_of(request))
            name = f"conversation-{detail.conversation.created_at[:10]}-{conversation_id[:8]}.md"
            path = ctx.history.export_markdown(conversation_id, ctx.new_files_dir() / name, owner_of(request))
        except HistoryError as exc:
            return None, "⚠ " + safe_md(str(exc))
        return str(path), ""

    export_btn.click(export, [conversation], [export_file, notices], api_name="export_conversation")

    def like(ids: list[int | None], data: gr.LikeData, request: gr.Request) -> tuple[str, int | None]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        message_id = ids[index] if 0 <= index < len(ids) else None
        if message_id is None:
            return "⚠ 只能评价助手的回复 / Only the copilot's replies can be rated", None
        rating: Rating | None = 1 if data.liked is True else -1 if data.liked is False else None
        try:
            ctx.history.set_feedback(message_id, rating=rating, owner=owner_of(request))
        except HistoryError as exc:
            return "⚠ " + safe_md(str(exc)), None
        thumbs = {1: "👍", -1: "👎", None: "—"}[rating]
        return f"已记录反馈 / Feedback saved {thumbs}", message_id

    chatbot.like(like, [reply_ids], [feedback_status, feedback_target], api_name="feedback")

    def send_comment(text: str, target: int | None, ids: list[int | None], request: gr.Request) -> tuple[str, str]:
        message_id = target or next((i for i in reversed(ids) if i is not None), None)
        if message_id is None:
            return "⚠ 还没有可评价的回复 / No reply to comment on yet", gr.skip()
        if not (text or "").strip():
            return "⚠ 请先写下意见 / Write a comment first", gr.skip()
        try:
            ctx.history.set_feedback(message_id, comment=text, owner=owner_of(request))
        except HistoryError as exc:
            return "⚠ " + safe_md(str(exc)), gr.skip()
        return "已保存反馈意见 / Comment saved", ""

    comment_btn.click(
        send_comment, [comment, feedback_target, reply_ids], [feedback_status, comment], api_name="feedback_comment"
    )

    return ChatTab(form=form, conversation=conversation, conversations=conversations)
