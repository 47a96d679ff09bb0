"""The Practice tab: role-play a meeting against a buyer persona (one line per turn, or a script), then a scorecard."""

from __future__ import annotations

import contextlib
from typing import Any

import gradio as gr

from copilot.deal import DealError
from copilot.practice.persona import PersonaError, load_persona, persona_keys
from copilot.practice.session import RoleplaySession, SessionOverError, render_scorecard
from ui.context import AppContext
from ui.meeting_support import deal_from_yaml, example_deal_yaml, problem_md
from ui.render import notices_md, safe_md


def _persona_choices() -> list[tuple[str, str]]:
    out = []
    for key in persona_keys():
        persona = load_persona(key)
        out.append((f"{persona.title.zh} {persona.title.en}", key))
    return out


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


def say(session: RoleplaySession | None, line: str) -> tuple[Any, ...]:
    if session is None:
        return session, [], line, "", "⚠ 先点“开始” / Press Start first"
    if not line.strip():
        return session, _history(session), "", "", ""
    with contextlib.suppress(SessionOverError):
        session.reply(line)
    card = safe_md(render_scorecard(session.result())) if session.finished else ""
    return session, _history(session), "", card, notices_md(session.notices)


def finish(session: RoleplaySession | None) -> tuple[str, str]:
    if session is None:
        return "", "⚠ 先点“开始” / Press Start first"
    result = session.result()
    return safe_md(render_scorecard(result)), notices_md(result.notices)


def run_script(ctx: AppContext, deal_text: str, persona: str, script: str) -> tuple[Any, ...]:
    session, history, _, problem = start(ctx, deal_text, persona)
    if session is None:
        return None, history, "", problem
    lines = [s.strip() for s in script.splitlines() if s.strip() and not s.lstrip().startswith("#")]
    result = session.run_script(lines)
    return session, _history(session), safe_md(render_scorecard(result)), notices_md(result.notices)


def build_roleplay_tab(ctx: AppContext) -> None:
    session = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            deal_text = gr.Code(example_deal_yaml(), language="yaml", label="交易 Deal (YAML)", elem_id="rp-deal")
            persona = gr.Dropdown(_persona_choices(), value="cfo", label="买方角色 Buyer persona", elem_id="rp-persona")
            begin = gr.Button("开始 Start", variant="primary", elem_id="rp-start")
            script = gr.Textbox(label="脚本（每行一句）Script: your lines, one per line", lines=6, elem_id="rp-script")
            play = gr.Button("按脚本演练 Run the script", elem_id="rp-run-script")
        with gr.Column(scale=2, min_width=480):
            notices = gr.Markdown("", elem_id="rp-notices")
            chat = gr.Chatbot(label="对话 Conversation", height=420, elem_id="rp-chat", sanitize_html=True)
            with gr.Row():
                line = gr.Textbox(label="你的回答 Your answer", scale=4, elem_id="rp-input")
                send = gr.Button("发送 Send", scale=1, elem_id="rp-send")
            end = gr.Button("结束并评分 End and score", elem_id="rp-end")
            card = gr.Markdown("", elem_id="rp-scorecard")
    begin.click(
        lambda d, p: start(ctx, d, p), [deal_text, persona], [session, chat, card, notices], api_name="roleplay_start"
    )
    send.click(say, [session, line], [session, chat, line, card, notices], api_name="roleplay_say")
    line.submit(say, [session, line], [session, chat, line, card, notices], api_visibility="private")
    end.click(finish, [session], [card, notices], api_name="roleplay_end")
    play.click(
        lambda d, p, s: run_script(ctx, d, p, s),
        [deal_text, persona, script],
        [session, chat, card, notices],
        api_name="roleplay_script",
    )
