"""The Practice tab: role-play a meeting against a buyer persona (one line per turn, or a script), then a scorecard."""

from __future__ import annotations

import contextlib
from typing import Any

import gradio as gr

from copilot.deal import DealError
from copilot.practice.persona import PersonaError, load_persona, persona_keys
from copilot.practice.session import RoleplaySession, SessionOverError, render_scorecard
from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.meeting_support import deal_from_yaml, example_deal_yaml, problem_md
from ui.render import notices_md, safe_md


def _persona_choices(lang: str) -> list[tuple[str, str]]:
    return [(load_persona(key).title(lang), key) for key in persona_keys()]


def _history(session: RoleplaySession) -> list[dict[str, str]]:
    role = {"buyer": "assistant", "rep": "user"}
    return [{"role": role[t.role], "content": t.text} for t in session.turns]


def start(ctx: AppContext, deal_text: str, persona: str) -> tuple[Any, ...]:
    try:
        session = ctx.copilot.roleplay_session(deal_from_yaml(deal_text), persona)
    except (DealError, PersonaError) as exc:
        return None, [], "", problem_md(str(exc))
    session.open()
    return session, _history(session), "", ""


def say(session: RoleplaySession | None, line: str, lang: str) -> tuple[Any, ...]:
    if session is None:
        return session, [], line, "", ui_text(lang, "practice.start_first")
    if not line.strip():
        return session, _history(session), "", "", ""
    with contextlib.suppress(SessionOverError):
        session.reply(line)
    card = safe_md(render_scorecard(session.result())) if session.finished else ""
    return session, _history(session), "", card, notices_md(session.notices)


def finish(session: RoleplaySession | None, lang: str) -> tuple[str, str]:
    if session is None:
        return "", ui_text(lang, "practice.start_first")
    result = session.result()
    return safe_md(render_scorecard(result)), notices_md(result.notices)


def run_script(ctx: AppContext, deal_text: str, persona: str, script: str) -> tuple[Any, ...]:
    session, history, _, problem = start(ctx, deal_text, persona)
    if session is None:
        return None, history, "", problem
    lines = [s.strip() for s in script.splitlines() if s.strip() and not s.lstrip().startswith("#")]
    result = session.run_script(lines)
    return session, _history(session), safe_md(render_scorecard(result)), notices_md(result.notices)


def build_roleplay_tab(ctx: AppContext, labels: Labels, ui_lang: gr.Radio) -> None:
    """The tab's components, labelled in the interface language; `ui_lang` gives its messages their language."""
    t, reg = labels.t, labels.reg
    session = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            deal_text = reg(
                gr.Code(example_deal_yaml(), language="yaml", label=t("practice.deal"), elem_id="rp-deal"),
                label="practice.deal",
            )
            persona = reg(
                gr.Dropdown(
                    _persona_choices(labels.lang), value="cfo", label=t("practice.persona"), elem_id="rp-persona"
                ),
                label="practice.persona",
                choices=_persona_choices,
            )
            begin = reg(gr.Button(t("practice.start"), variant="primary", elem_id="rp-start"), value="practice.start")
            script = reg(gr.Textbox(label=t("practice.script"), lines=6, elem_id="rp-script"), label="practice.script")
            play = reg(gr.Button(t("practice.run_script"), elem_id="rp-run-script"), value="practice.run_script")
        with gr.Column(scale=2, min_width=480):
            notices = gr.Markdown("", elem_id="rp-notices")
            chat = reg(
                gr.Chatbot(label=t("practice.conversation"), height=420, elem_id="rp-chat", sanitize_html=True),
                label="practice.conversation",
            )
            with gr.Row():
                line = reg(gr.Textbox(label=t("practice.answer"), scale=4, elem_id="rp-input"), label="practice.answer")
                send = reg(gr.Button(t("practice.send"), scale=1, elem_id="rp-send"), value="practice.send")
            end = reg(gr.Button(t("practice.end"), elem_id="rp-end"), value="practice.end")
            card = gr.Markdown("", elem_id="rp-scorecard")
    begin.click(
        lambda d, p: start(ctx, d, p), [deal_text, persona], [session, chat, card, notices], api_name="roleplay_start"
    )
    send.click(say, [session, line, ui_lang], [session, chat, line, card, notices], api_name="roleplay_say")
    line.submit(say, [session, line, ui_lang], [session, chat, line, card, notices], api_visibility="private")
    end.click(finish, [session, ui_lang], [card, notices], api_name="roleplay_end")
    play.click(
        lambda d, p, s: run_script(ctx, d, p, s),
        [deal_text, persona, script],
        [session, chat, card, notices],
        api_name="roleplay_script",
    )
