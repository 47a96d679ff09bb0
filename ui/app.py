"""The Gradio app: tabs for chat, meeting briefs, the knowledge base, evals and settings.

`build_app(ctx)` lays out the tabs over one `AppContext`, chat first, in one interface
language at a time (a zh | en switch in the header, ui/labels.py); evals and search
scores are behind the "admin view" switch; `launch(...)` serves it
with the safe defaults: 127.0.0.1, optional login, never a public share link,
no analytics, no run history kept in the browser, a queue with a concurrency
limit (CPU-bound turns wait their turn instead of failing), uploads capped, and
no API description in the login page (ui/guard.py).
Every event that is part of the API has an explicit api_name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ui.auth import checker
from ui.blocks import AppBlocks
from ui.brief import build_brief_tab
from ui.chat import CITATION_LINKS, build_chat_tab
from ui.context import AppContext
from ui.evals_tab import build_evals_tab, harness_md
from ui.guard import HideApiInfoFromStrangers
from ui.knowledge import build_knowledge_tab, status_md
from ui.labels import Labels, ui_text
from ui.negotiate_tab import build_negotiate_tab
from ui.recap_tab import build_recap_tab
from ui.roleplay_tab import build_roleplay_tab
from ui.settings_tab import build_settings_tab

TITLE = "谈判助手 Negotiation Copilot"
QUEUE_MAX = 100
MAX_UPLOAD = "2mb"
CSS = """
#mode-badge { font-size: 0.9em; }
#chatbot .message { font-size: 0.95em; }
#chat-skill { font-size: 0.9em; opacity: 0.85; }
.cite-flash { outline: 2px solid #f58518; border-radius: 6px; }
@media (max-width: 640px) {
  #chatbot { height: 70vh !important; }
  #chatbot table { display: block; overflow-x: auto; }
  #chatbot th, #chatbot td { min-width: 4.5em; }
  #app-header { flex-wrap: wrap; }
}
"""


def build_app(ctx: AppContext) -> gr.Blocks:
    labels = Labels(ctx.settings.language)
    t = labels.t
    demo: gr.Blocks
    with AppBlocks(title=TITLE, analytics_enabled=False) as demo:
        with gr.Row(elem_id="app-header", equal_height=True):
            labels.reg(gr.Markdown(t("app.title"), elem_id="app-title"), value="app.title")
            badge = labels.reg(gr.Markdown(ctx.mode_badge(labels.lang), elem_id="mode-badge"), value=ctx.mode_badge)
            ui_lang = labels.reg(
                gr.Radio(
                    [("中文", "zh"), ("English", "en")],
                    value=labels.lang,
                    label=t("app.ui_language"),
                    elem_id="ui-language",
                    scale=0,
                    min_width=170,
                ),
                label="app.ui_language",
            )
            labels.switch = ui_lang
            admin = labels.reg(
                gr.Checkbox(False, label=t("app.admin"), elem_id="admin-view", scale=0, min_width=170),
                label="app.admin",
            )
        with gr.Tabs() as tabs:
            with gr.Tab(t("tab.chat"), id="chat", elem_id="tab-chat") as chat_tab:
                chat = build_chat_tab(ctx, labels, ui_lang)
            with gr.Tab(t("tab.brief"), id="brief", elem_id="tab-brief") as brief_tab:
                build_brief_tab(ctx, chat.form, labels)
            with gr.Tab(t("tab.negotiate"), id="negotiate", elem_id="tab-negotiate") as negotiate_tab:
                build_negotiate_tab(ctx, labels)
            with gr.Tab(t("tab.practice"), id="practice", elem_id="tab-practice") as practice_tab:
                build_roleplay_tab(ctx, labels, ui_lang)
            with gr.Tab(t("tab.recap"), id="recap", elem_id="tab-recap") as recap_tab:
                recap_notes = build_recap_tab(ctx, labels, ui_lang)
            with gr.Tab(t("tab.kb"), id="kb", elem_id="tab-kb") as kb_tab:
                kb = build_knowledge_tab(ctx, labels)
            with gr.Tab(t("tab.evals"), id="evals", elem_id="tab-evals", visible=False) as evals_tab:
                evals_status = build_evals_tab(ctx, labels)
            with gr.Tab(t("tab.settings"), id="settings", elem_id="tab-settings") as settings_tab:
                build_settings_tab(ctx, badge, labels, ui_lang)
        for tab, key in (
            (chat_tab, "tab.chat"),
            (brief_tab, "tab.brief"),
            (negotiate_tab, "tab.negotiate"),
            (practice_tab, "tab.practice"),
            (recap_tab, "tab.recap"),
            (kb_tab, "tab.kb"),
            (evals_tab, "tab.evals"),
            (settings_tab, "tab.settings"),
        ):
            labels.reg(tab, label=key)

        ui_lang.change(labels.updates, [ui_lang], labels.components(), api_name="ui_language")

        def admin_view(on: bool) -> tuple[Any, ...]:
            return gr.Tab(visible=on), gr.Dataframe(visible=on)

        admin.change(admin_view, [admin], [evals_tab, kb.hits], api_name="admin_view")

        def rest_to_note(rest: str, lang: str) -> tuple[Any, ...]:
            """The rest of a long message, in the note form of the knowledge base (title and source to add)."""
            if not (rest or "").strip():
                return gr.skip(), gr.skip(), gr.skip(), ui_text(lang, "chat.rest_none")
            return gr.Tabs(selected="kb"), gr.Accordion(open=True), rest, ""

        note_outputs = [tabs, kb.note_box, kb.note_text, kb.note_result]
        chat.save_rest.click(rest_to_note, [chat.rest, ui_lang], note_outputs, api_visibility="private")

        def rest_to_recap(rest: str) -> tuple[Any, ...]:
            """Meeting notes pasted into the chat go to the Recap tab's notes."""
            if not (rest or "").strip():
                return gr.skip(), gr.skip()
            return gr.Tabs(selected="recap"), rest

        chat.use_rest.click(rest_to_recap, [chat.rest], [tabs, recap_notes], api_visibility="private")

        def on_load(lang: str, request: gr.Request) -> tuple[Any, ...]:
            return chat.conversations(request), ctx.mode_badge(lang), status_md(ctx, lang), harness_md(ctx, lang)

        demo.load(on_load, [ui_lang], [chat.conversation, badge, kb.status, evals_status], api_name="conversations")
    return demo


def launch(
    ctx: AppContext,
    host: str = "127.0.0.1",
    port: int = 7860,
    users: dict[str, str] | None = None,
    *,
    block: bool = True,
    quiet: bool = False,
) -> tuple[gr.Blocks, str]:
    """Serve the app; returns (blocks, local URL). With block=True it returns only when the server stops."""
    demo = build_app(ctx)
    demo.queue(default_concurrency_limit=ctx.settings.ui_concurrency, max_size=QUEUE_MAX)
    auth: Callable[[str, str], bool] | None = checker(users) if users else None
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="谈判助手 Negotiation Copilot: please log in" if auth else None,
        share=False,
        inbrowser=False,
        prevent_thread_lock=True,
        quiet=quiet,
        show_error=False,
        allowed_paths=[str(ctx.files_dir)],
        footer_links=["api"],
        run_history=False,
        enable_monitoring=False,
        mcp_server=False,
        ssr_mode=False,
        app_kwargs={"middleware": [Middleware(HideApiInfoFromStrangers)]},  # ui/guard.py: the login page leaks it
        max_file_size=MAX_UPLOAD,
        theme=gr.themes.Default(),
        css=CSS,
        head=CITATION_LINKS,
    )
    if block:
        demo.block_thread()
    return demo, str(url)
