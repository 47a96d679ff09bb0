"""The Gradio app: tabs for chat, meeting briefs, the knowledge base, evals and settings.

`build_app(ctx)` lays out the tabs over one `AppContext`; `launch(...)` serves it
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
from ui.brief import build_brief_tab
from ui.chat import build_chat_tab
from ui.context import AppContext
from ui.evals_tab import build_evals_tab, harness_md
from ui.guard import HideApiInfoFromStrangers
from ui.knowledge import build_knowledge_tab, status_md
from ui.negotiate_tab import build_negotiate_tab
from ui.recap_tab import build_recap_tab
from ui.roleplay_tab import build_roleplay_tab
from ui.settings_tab import build_settings_tab

TITLE = "谈判助手 Negotiation Copilot"
QUEUE_MAX = 100
MAX_UPLOAD = "2mb"
CSS = """
#mode-badge { font-size: 0.95em; }
#chatbot .message { font-size: 0.95em; }
"""


def build_app(ctx: AppContext) -> gr.Blocks:
    demo: gr.Blocks
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        with gr.Row():
            gr.Markdown(f"## {TITLE}")
            badge = gr.Markdown(ctx.mode_badge(), elem_id="mode-badge")
        with gr.Tabs():
            with gr.Tab("对话 Chat", id="chat"):
                chat = build_chat_tab(ctx)
            with gr.Tab("会议简报 Meeting brief", id="brief"):
                build_brief_tab(ctx, chat.form)
            with gr.Tab("谈判 Negotiate", id="negotiate"):
                build_negotiate_tab(ctx)
            with gr.Tab("练习 Practice", id="practice"):
                build_roleplay_tab(ctx)
            with gr.Tab("纪要 Recap", id="recap"):
                build_recap_tab(ctx)
            with gr.Tab("知识库 Knowledge base", id="kb"):
                index_status = build_knowledge_tab(ctx)
            with gr.Tab("评测 Evals", id="evals"):
                evals_status = build_evals_tab(ctx)
            with gr.Tab("设置 Settings", id="settings"):
                build_settings_tab(ctx, badge)

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            return chat.conversations(request), ctx.mode_badge(), status_md(ctx), harness_md(ctx)

        demo.load(on_load, None, [chat.conversation, badge, index_status, evals_status], api_name="conversations")
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
    )
    if block:
        demo.block_thread()
    return demo, str(url)
