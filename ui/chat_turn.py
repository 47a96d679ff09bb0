"""One chat turn in the app: stream the copilot's reply into the chat and the history.

Each turn is stored as it happens (copilot.history): the user's message, then the reply as `partial`
before the first word, its text flushed while it streams, and `complete` with its citations when the
copilot is done; a stream that stops early is marked `interrupted`. A reply shows each citation once
(one per document), numbered, with the [n] in its text linked to it; its own sources list is not
repeated. Under it: which skill answered and the next one to try. A long message is cut with a notice
in the user's language, and the rest is kept for the note form or meeting notes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from copilot.chat import skill_label
from copilot.core import EMPTY_MESSAGE
from copilot.deal import Deal, DealError
from copilot.history import HistoryError, Message
from copilot.inputs import prepare_text
from copilot.long_input import message_notice
from copilot.results import Citation, Notice
from copilot.text.lang import detect_language
from ui.chat_view import ChatViews, reply_messages
from ui.context import AppContext
from ui.deal_form import FIELDS, read_form, values_from_deal
from ui.labels import ui_text
from ui.render import notices_md, safe_md

log = logging.getLogger("ui.chat")

FLUSH_INTERVAL_S = 0.5
"""How often the text of a reply being streamed is written to the history (at most)."""

REDRAW_INTERVAL_S = 0.1
"""How often the reply being streamed is redrawn (at most). Every update makes Gradio post-process and
send the whole conversation: redrawing per piece cost ~75% of the app's CPU under load (bench/load.py)."""


def owner_of(request: gr.Request | None) -> str:
    """The logged-in user ("" without login): conversations are kept per user."""
    return str(getattr(request, "username", None) or "")


def conversation_choices(ctx: AppContext, owner: str) -> list[tuple[str, str]]:
    return [(f"{title} · {updated[:16].replace('T', ' ')}", cid) for cid, title, updated in ctx.history.titles(owner)]


def _dropdown(ctx: AppContext, owner: str, value: str | None) -> Any:
    """The conversation list as an update (not a new component: Gradio builds that from the update anyway)."""
    return gr.update(choices=conversation_choices(ctx, owner), value=value or None)


Outputs = tuple[Any, ...]
"""(chatbot, textbox, conversation dropdown, notices, reply ids, skill line, next button, next prompt,
rest of a long message, long-input actions row, then the deal panel's budget, timeline and other
constraints: a constraint the message stated is picked up into them)."""

_FORM_SKIP = (gr.skip(),) * 3
_SKIP5 = (gr.skip(),) * 5 + _FORM_SKIP


def _extras(
    skill: str | None = None, lang: str = "zh", next_label: str | None = None, next_prompt: str | None = None
) -> tuple[Any, ...]:
    if skill is None:
        return gr.skip(), gr.skip(), gr.skip()
    line = ui_text(lang, "chat.answered_by", skill=skill_label(skill, lang))
    button = gr.update(value=f"→ {next_label}", visible=True) if next_label else gr.update(visible=False)
    return line, button, next_prompt or ""


def stream_reply(
    ctx: AppContext,
    message: str,
    conversation_id: str | None,
    deal_values: dict[str, Any],
    owner: str,
    views: ChatViews | None = None,
) -> Iterator[Outputs]:
    """One chat turn: yields the chat tab's outputs (see `Outputs`) as the reply streams.

    The message is cleaned and cut first (copilot.inputs.prepare_text, as the copilot would): an empty one
    is refused with a message and nothing is stored; otherwise what is stored and answered is the prepared
    text. A cut is told in the user's language, with what was kept and why, and the rest is offered as a
    knowledge-base note or meeting notes.

    `views` keeps each conversation as shown between turns (ui/chat_view.py), so a turn neither reads
    nor re-renders the earlier messages; without it the conversation is read from the history.
    """
    views = views or ChatViews(ctx.history, size=0)
    prepared = prepare_text(message or "", ctx.settings)
    if prepared.empty:
        yield gr.skip(), gr.skip(), gr.skip(), "⚠ " + EMPTY_MESSAGE, gr.skip(), *_SKIP5
        return
    text = prepared.text
    notes: list[str] = []
    lang = detect_language(text, default=ctx.settings.language)
    long = message_notice(message or "", text, lang)
    notices: list[Notice] = [n for n in prepared.notices if n.kind != "truncated"]
    notices += [long.notice] if long.notice else []
    try:
        reading = read_form(deal_values, lang)
    except DealError as exc:
        problem = ui_text(lang, "brief.deal_problem") + "\n\n" + safe_md(str(exc))
        yield gr.skip(), gr.skip(), gr.skip(), problem, gr.skip(), *_SKIP5
        return
    deal = reading.deal
    notices += reading.notices
    rest = "\n\n".join(r for r in (long.rest, reading.rest) if r)
    long_row = gr.update(visible=bool(rest))
    deal_data = deal.model_dump(mode="json", exclude_none=True)
    history = ctx.history
    try:
        if conversation_id:
            history.set_deal(conversation_id, deal_data, owner)
            before = views.get(conversation_id, owner)
        else:
            conversation_id = history.create(text, owner, deal_data).id
            before = views.empty(owner)
        user_id = history.add_user_message(conversation_id, text, owner)
        reply_id = history.start_reply(conversation_id, owner)
    except HistoryError as exc:
        yield gr.skip(), gr.skip(), gr.skip(), "⚠ " + safe_md(str(exc)), gr.skip(), *_SKIP5
        return

    asked = views.shape([{"role": "user", "content": safe_md(text)}])
    reply = ""
    citations: list[Citation] = []
    skill: str | None = None
    offer: tuple[str | None, str | None] = (None, None)
    finished = False
    picked: Deal | None = None
    last_flush = time.monotonic()

    def view() -> list[Any]:
        return [*before.shown, *asked, *views.shape([{"role": "assistant", "content": safe_md(reply) or "…"}])]

    yield (
        view(),
        "",
        gr.skip() if before.version[0] else _dropdown(ctx, owner, conversation_id),  # a new one appears at once
        notices_md(notices),
        [*before.ids, None, reply_id],
        "",
        gr.update(visible=False),
        "",
        rest,
        long_row,
        *_FORM_SKIP,
    )
    last_redraw = time.monotonic()
    try:
        for event in ctx.copilot.chat(text, list(before.turns), deal):
            if event.kind in ("text", "replace") and event.text is not None:
                reply = event.text if event.kind == "replace" else reply + event.text  # replace: the checked answer
                now = time.monotonic()
                if now - last_flush >= FLUSH_INTERVAL_S:
                    history.save_partial(reply_id, reply)
                    last_flush = now
                if now - last_redraw >= REDRAW_INTERVAL_S:
                    last_redraw = now
                    yield view(), *(gr.skip(),) * 4, *_SKIP5
            elif event.kind == "route" and event.skill:
                skill = event.answered_by or event.skill
                offer = (event.next_label, event.next_prompt)
            elif event.kind == "citations":
                citations = event.citations
            elif event.kind in ("notice", "deal") and event.notice:  # deal: a constraint the message stated
                notices.append(event.notice)
                picked = event.deal or picked
        history.complete_reply(reply_id, reply, citations, notices, skill)
        finished = True
        if picked is not None:  # resuming the conversation brings the picked-up constraint back
            history.set_deal(conversation_id, picked.model_dump(mode="json", exclude_none=True), owner)
    except Exception as exc:  # the user sees a short message; the log has the details
        log.exception("chat turn failed")
        notes.append(ui_text(lang, "chat.reply_failed", error=type(exc).__name__))
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
    parts = views.shape(reply_messages(stored, lang))
    part_ids = [reply_id] * len(parts)
    if finished:
        asked_stored = Message(
            id=user_id, conversation_id=conversation_id, role="user", content=text, status="complete", created_at=""
        )
        views.after_turn(conversation_id, before, [asked_stored, stored], [*asked, *parts], [None, *part_ids])
    summary = notes + ([notices_md(notices)] if notices else [])
    yield (
        [*before.shown, *asked, *parts],
        gr.skip(),
        _dropdown(ctx, owner, conversation_id),
        "\n".join(summary),
        [*before.ids, None, *part_ids],
        *_extras(skill, lang, *offer),
        gr.skip(),
        gr.skip(),
        *_picked_fields(picked),
    )


def _picked_fields(deal: Deal | None) -> tuple[Any, ...]:
    """The deal panel's constraint boxes after a message stated a constraint (kept as they are otherwise)."""
    if deal is None:
        return _FORM_SKIP
    values = dict(zip(FIELDS, values_from_deal(deal), strict=True))
    return values["budget"], values["timeline"], values["constraints"]
