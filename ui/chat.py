"""The chat tab: the chat first and large, the deal panel beside it (below on a phone), conversations.

The turn itself (streaming, history, citations, long input) is ui/chat_turn.py. Here: the layout and
the events: "New" starts a clean conversation and a clean deal; deleting sits in "Manage this
conversation", away from "New", and asks for confirmation; the next-skill button sends its prompt;
after a reply the view scrolls to its start, and a click on [n] opens citation n.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import gradio as gr

from copilot.history import HistoryError, Rating
from copilot.text.lang import detect_language
from ui.chat_turn import _dropdown, owner_of, stream_reply
from ui.chat_view import ChatViews, render_messages
from ui.context import AppContext
from ui.deal_form import DealForm, deal_form, form_values, values_from_deal
from ui.health_panel import add_health_panel
from ui.labels import Labels, ui_text
from ui.reading_panel import add_reading_panel, reading_md_after_turn
from ui.render import safe_md

__all__ = ["ChatTab", "build_chat_tab", "owner_of", "render_messages", "stream_reply"]


@dataclass
class ChatTab:
    form: DealForm
    conversation: gr.Dropdown
    conversations: Callable[[gr.Request], Any]
    """Fills the conversation list (run when a page loads)."""
    message: gr.Textbox
    rest: gr.State
    save_rest: gr.Button
    use_rest: gr.Button
    notices: gr.Markdown
    chatbot: gr.Chatbot


SCROLL_TO_ANSWER = """() => {
  const go = () => {
    const users = document.querySelectorAll('#chatbot [data-testid="user"]');
    const last = users[users.length - 1];
    if (last) { last.scrollIntoView({block: 'start', behavior: 'instant'}); }
  };
  go();
  setTimeout(go, 300);
  setTimeout(go, 900);
}"""
"""After a reply: show its start (the question and the answer's first lines), not the end of its sources."""

CITATION_LINKS = """
<script>
if (!window.negoCitationLinks) {
window.negoCitationLinks = true;
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('#chatbot a[href^="#cite-"]');
  if (!link) { return; }
  event.preventDefault();
  event.stopPropagation();
  const n = parseInt(link.getAttribute('href').slice(6), 10);
  const message = link.closest('[data-testid="bot"]') || link;
  const after = (el) => message.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
  const blocks = Array.from(document.querySelectorAll('#chatbot .thought')).filter(after);
  const target = blocks[n - 1];
  if (!target) { return; }
  const title = target.querySelector('.title');
  const body = target.querySelector('.content');
  if (title && (!body || body.offsetParent === null)) { title.click(); }
  target.scrollIntoView({block: 'center'});
  target.classList.add('cite-flash');
  setTimeout(() => target.classList.remove('cite-flash'), 2500);
}, true);
}
</script>
"""
"""[n] in a reply is a link: a click opens citation n (its passage) and scrolls to it."""


def build_chat_tab(ctx: AppContext, labels: Labels, ui_lang: gr.Radio) -> ChatTab:
    """The chat tab's components and events."""
    reply_ids = gr.State([])
    feedback_target = gr.State(None)
    next_prompt = gr.State("")
    rest = gr.State("")
    t = labels.t
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=320):
            with gr.Row(equal_height=True):
                conversation = labels.reg(
                    gr.Dropdown(
                        choices=[],
                        value=None,
                        label=t("chat.resume"),
                        elem_id="conversation",
                        allow_custom_value=True,
                        scale=4,
                    ),
                    label="chat.resume",
                )
                new_btn = labels.reg(
                    gr.Button(t("chat.new"), size="sm", variant="primary", elem_id="new-conversation", scale=1),
                    value="chat.new",
                )
            chatbot = labels.reg(
                gr.Chatbot(
                    label=t("chat.bot"),
                    elem_id="chatbot",
                    height=620,
                    buttons=["copy"],
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),
                    group_consecutive_messages=True,
                ),
                label="chat.bot",
            )
            with gr.Row(equal_height=True):
                skill_line = gr.Markdown("", elem_id="chat-skill")
                next_btn = gr.Button("", visible=False, size="sm", elem_id="chat-next")
            notices = gr.Markdown("", elem_id="chat-notices")
            with gr.Row(visible=False, elem_id="long-input-actions") as long_row:
                save_rest = labels.reg(
                    gr.Button(t("chat.save_rest_note"), size="sm", elem_id="long-save-note"),
                    value="chat.save_rest_note",
                )
                use_rest = labels.reg(
                    gr.Button(t("chat.use_rest_recap"), size="sm", elem_id="long-use-recap"),
                    value="chat.use_rest_recap",
                )
            with gr.Row():
                message = labels.reg(
                    gr.Textbox(
                        placeholder=t("chat.placeholder"),
                        show_label=False,
                        scale=6,
                        elem_id="chat-input",
                        max_lines=6,
                    ),
                    placeholder="chat.placeholder",
                )
                send = labels.reg(
                    gr.Button(t("chat.send"), variant="primary", scale=1, min_width=80, elem_id="chat-send"),
                    value="chat.send",
                )
                stop = labels.reg(
                    gr.Button(t("chat.stop"), scale=1, min_width=80, elem_id="chat-stop"), value="chat.stop"
                )
            gr.Examples([[e] for e in labels.all("chat.example_list")], inputs=[message], label=t("chat.examples"))
            with gr.Accordion(t("chat.feedback_send"), open=False, elem_id="feedback-box") as feedback_box:
                comment = labels.reg(
                    gr.Textbox(label=t("chat.feedback_comment"), elem_id="feedback-comment"),
                    label="chat.feedback_comment",
                )
                comment_btn = labels.reg(
                    gr.Button(t("chat.feedback_send"), size="sm", elem_id="feedback-send"), value="chat.feedback_send"
                )
            labels.reg(feedback_box, label="chat.feedback_send")
            feedback_status = gr.Markdown("", elem_id="feedback-status")
            with gr.Accordion(t("chat.manage"), open=False, elem_id="manage-conversation") as manage:
                with gr.Row():
                    rename_box = labels.reg(
                        gr.Textbox(label=t("chat.rename_box"), elem_id="rename-box", scale=3), label="chat.rename_box"
                    )
                    rename_btn = labels.reg(
                        gr.Button(t("chat.rename_btn"), size="sm", scale=1), value="chat.rename_btn"
                    )
                export_btn = labels.reg(
                    gr.Button(t("chat.export_btn"), size="sm", elem_id="export-conversation"), value="chat.export_btn"
                )
                export_file = labels.reg(
                    gr.File(label=t("chat.export_file"), interactive=False, height=90, elem_id="export-file"),
                    label="chat.export_file",
                )
                delete_btn = labels.reg(
                    gr.Button(t("chat.delete_btn"), size="sm", variant="stop", elem_id="delete-conversation"),
                    value="chat.delete_btn",
                )
                with gr.Group(visible=False, elem_id="delete-confirm-box") as confirm_box:
                    labels.reg(gr.Markdown(t("chat.delete_ask")), value="chat.delete_ask")
                    with gr.Row():
                        confirm_btn = labels.reg(
                            gr.Button(t("chat.delete_confirm"), size="sm", variant="stop", elem_id="delete-confirm"),
                            value="chat.delete_confirm",
                        )
                        cancel_btn = labels.reg(
                            gr.Button(t("chat.delete_cancel"), size="sm", elem_id="delete-cancel"),
                            value="chat.delete_cancel",
                        )
            labels.reg(manage, label="chat.manage")
        with gr.Column(scale=1, min_width=280):
            with gr.Accordion(t("chat.deal"), open=True, elem_id="deal-panel") as deal_box:
                form = deal_form("deal", labels)
                reading = add_reading_panel(ctx, form, labels, ui_lang)
                add_health_panel(ctx, form, labels)
            labels.reg(deal_box, label="chat.deal")

    deal_inputs = form.components()
    # Each conversation as shown, kept between turns, in the Chatbot's own message objects (built once each).
    views = ChatViews(ctx.history, shape=lambda messages: list(chatbot.postprocess(cast(Any, messages)).root))

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
        constraints: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        values = form_values(
            customer,
            industry,
            scenario,
            region,
            language,
            audience,
            pains,
            goals,
            systems,
            budget,
            timeline,
            stage,
            constraints,
        )
        yield from stream_reply(ctx, message, conversation_id, values, owner_of(request), views)

    chat_outputs = [
        chatbot,
        message,
        conversation,
        notices,
        reply_ids,
        skill_line,
        next_btn,
        next_prompt,
        rest,
        long_row,
        form.budget,
        form.timeline,
        form.constraints,
    ]
    submit_event = message.submit(
        chat, [message, conversation, *deal_inputs], chat_outputs, api_name="chat", concurrency_id="copilot"
    )
    click_event = send.click(
        chat, [message, conversation, *deal_inputs], chat_outputs, api_visibility="private", concurrency_id="copilot"
    )

    def refresh_reading(*values: Any) -> Any:
        """After a turn: a reading already shown follows the deal (a constraint the message stated)."""
        *fields, lang, shown = values
        return reading_md_after_turn(ctx, fields, lang, shown)

    for event in (submit_event, click_event):
        event.then(None, None, None, js=SCROLL_TO_ANSWER, api_visibility="private")
        event.then(refresh_reading, [*deal_inputs, ui_lang, reading], [reading], api_visibility="private")
    stop.click(None, None, None, cancels=[submit_event, click_event], api_visibility="private")
    next_event = next_btn.click(lambda p: p, [next_prompt], [message], api_visibility="private").then(
        chat, [message, conversation, *deal_inputs], chat_outputs, api_visibility="private", concurrency_id="copilot"
    )
    next_event.then(None, None, None, js=SCROLL_TO_ANSWER, api_visibility="private")

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
        """A clean start: no conversation, an empty chat and an empty deal."""
        cleared = (gr.Button(visible=False), "", "", gr.Row(visible=False))
        return _dropdown(ctx, owner_of(request), None), [], [], "", "", *cleared, *values_from_deal({})

    new_btn.click(
        new_conversation,
        None,
        [conversation, chatbot, reply_ids, notices, skill_line, next_btn, next_prompt, rest, long_row, *deal_inputs],
        api_name="new_conversation",
    )

    def rename(conversation_id: str | None, title: str, request: gr.Request) -> tuple[Any, ...]:
        owner = owner_of(request)
        lang = detect_language(title or "", default=labels.lang)
        if not conversation_id:
            return gr.skip(), ui_text(lang, "chat.choose_first"), gr.skip()
        try:
            ctx.history.rename(conversation_id, title, owner)
        except HistoryError as exc:
            return gr.skip(), "⚠ " + safe_md(str(exc)), gr.skip()
        return _dropdown(ctx, owner, conversation_id), ui_text(lang, "chat.renamed"), ""

    rename_btn.click(
        rename, [conversation, rename_box], [conversation, notices, rename_box], api_name="rename_conversation"
    )

    delete_btn.click(lambda: gr.Group(visible=True), None, [confirm_box], api_visibility="private")
    cancel_btn.click(lambda: gr.Group(visible=False), None, [confirm_box], api_visibility="private")

    def delete(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        owner = owner_of(request)
        if not conversation_id:
            return gr.skip(), gr.skip(), gr.skip(), ui_text(labels.lang, "chat.choose_first")
        try:
            ctx.history.delete(conversation_id, owner)
        except HistoryError as exc:
            return gr.skip(), gr.skip(), gr.skip(), "⚠ " + safe_md(str(exc))
        return _dropdown(ctx, owner, None), [], [], ui_text(labels.lang, "chat.deleted")

    confirm_btn.click(
        delete, [conversation], [conversation, chatbot, reply_ids, notices], api_name="delete_conversation"
    ).then(lambda: gr.Group(visible=False), None, [confirm_box], api_visibility="private")

    def export(conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not conversation_id:
            return None, ui_text(labels.lang, "chat.choose_first")
        try:
            detail = ctx.history.get(conversation_id, owner_of(request))
            name = f"conversation-{detail.conversation.created_at[:10]}-{conversation_id[:8]}.md"
            path = ctx.history.export_markdown(conversation_id, ctx.new_files_dir() / name, owner_of(request))
        except HistoryError as exc:
            return None, "⚠ " + safe_md(str(exc))
        return str(path), ""

    export_btn.click(export, [conversation], [export_file, notices], api_name="export_conversation")

    def like(ids: list[int | None], ui_language: str, data: gr.LikeData, request: gr.Request) -> tuple[str, int | None]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        message_id = ids[index] if 0 <= index < len(ids) else None
        if message_id is None:
            return ui_text(ui_language, "chat.rate_only_replies"), None
        rating: Rating | None = 1 if data.liked is True else -1 if data.liked is False else None
        try:
            ctx.history.set_feedback(message_id, rating=rating, owner=owner_of(request))
        except HistoryError as exc:
            return "⚠ " + safe_md(str(exc)), None
        thumbs = {1: "👍", -1: "👎", None: "—"}[rating]
        return ui_text(ui_language, "chat.feedback_saved", thumbs=thumbs), message_id

    ui_lang = labels.language_input()
    chatbot.like(like, [reply_ids, ui_lang], [feedback_status, feedback_target], api_name="feedback")

    def send_comment(
        text: str, target: int | None, ids: list[int | None], ui_language: str, request: gr.Request
    ) -> tuple[str, str]:
        message_id = target or next((i for i in reversed(ids) if i is not None), None)
        if message_id is None:
            return ui_text(ui_language, "chat.no_reply_yet"), gr.skip()
        if not (text or "").strip():
            return ui_text(ui_language, "chat.comment_first"), gr.skip()
        try:
            ctx.history.set_feedback(message_id, comment=text, owner=owner_of(request))
        except HistoryError as exc:
            return "⚠ " + safe_md(str(exc)), gr.skip()
        return ui_text(ui_language, "chat.comment_saved"), ""

    comment_btn.click(
        send_comment,
        [comment, feedback_target, reply_ids, ui_lang],
        [feedback_status, comment],
        api_name="feedback_comment",
    )
    return ChatTab(form, conversation, conversations, message, rest, save_rest, use_rest, notices, chatbot)
