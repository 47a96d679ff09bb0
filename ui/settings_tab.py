"""The settings tab: provider, base URL, model, API key (write-only), a connection test, default language.

The API key box is write-only: it always shows empty, a key typed into it is
used and then cleared, and nothing here ever returns, prints or logs a key.
Settings apply to this running app; to keep them, use NEGO_* variables or
NEGO_HOME/config.toml (docs/ui.md).
"""

from __future__ import annotations

from typing import Any, get_args

import gradio as gr
from pydantic import SecretStr, ValidationError

from copilot.connection import check_connection
from copilot.settings import Settings
from ui.context import AppContext
from ui.render import safe_md

PROVIDERS: tuple[str, ...] = get_args(Settings.model_fields["provider"].annotation)


def key_state(settings: Settings) -> str:
    return "已设置（不显示）/ set (hidden)" if settings.api_key is not None else "未设置 / not set"


def _updates(provider: str, base_url: str, model: str, api_key: str, language: str) -> dict[str, Any]:
    updates: dict[str, Any] = {
        "provider": provider,
        "base_url": (base_url or "").strip() or None,
        "model": (model or "").strip() or None,
        "language": language,
    }
    if (api_key or "").strip():
        updates["api_key"] = SecretStr(api_key.strip())
    return updates


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False))


def build_settings_tab(ctx: AppContext, badge: gr.Markdown) -> None:
    s = ctx.settings
    provider = gr.Dropdown(list(PROVIDERS), value=s.provider, label="服务商 Provider", elem_id="settings-provider")
    base_url = gr.Textbox(
        s.base_url or "", label="Base URL", placeholder="http://127.0.0.1:8000/v1", elem_id="settings-base-url"
    )
    model = gr.Textbox(s.model or "", label="模型 Model", elem_id="settings-model")
    api_key = gr.Textbox(
        "",
        label="API key",
        type="password",
        placeholder=key_state(s) + " · 输入新密钥以替换 / type a new key to replace it",
        elem_id="settings-api-key",
    )
    language = gr.Radio([("中文", "zh"), ("English", "en")], value=s.language, label="默认语言 Default language")
    with gr.Row():
        test_btn = gr.Button("测试连接 Test connection", elem_id="settings-test")
        apply_btn = gr.Button("应用 Apply", variant="primary", elem_id="settings-apply")
    result = gr.Markdown("", elem_id="settings-result")
    gr.Markdown(
        "设置只对当前运行的应用生效；要长期保存请用环境变量 NEGO_* 或 NEGO_HOME/config.toml。"
        " / Settings apply to this running app; keep them with NEGO_* variables or NEGO_HOME/config.toml."
    )

    def test_connection(provider: str, base_url: str, model: str, api_key: str, language: str) -> tuple[str, str]:
        updates = _updates(provider, base_url, model, api_key, language)
        try:
            candidate = Settings(**{**ctx.settings.model_dump(), **updates})
        except ValidationError as exc:
            return "❌ " + safe_md(_errors(exc)), ""
        check = check_connection(candidate, language)
        latency = f" · {check.latency_ms:.0f} ms" if check.latency_ms is not None else ""
        return ("✅ " if check.ok else "❌ ") + safe_md(check.message) + latency, ""

    test_btn.click(
        test_connection, [provider, base_url, model, api_key, language], [result, api_key], api_name="test_connection"
    )

    def apply(provider: str, base_url: str, model: str, api_key: str, language: str) -> tuple[Any, ...]:
        try:
            settings = ctx.apply_settings(_updates(provider, base_url, model, api_key, language))
        except ValidationError as exc:
            return "❌ " + safe_md(_errors(exc)), "", gr.skip()
        except Exception as exc:  # opening the copilot failed: say what, keep the old settings
            return f"❌ {type(exc).__name__}: " + safe_md(str(exc)[:300]), "", gr.skip()
        placeholder = key_state(settings) + " · 输入新密钥以替换 / type a new key to replace it"
        return "✅ 已应用 / Applied", gr.Textbox(value="", placeholder=placeholder), ctx.mode_badge()

    apply_btn.click(
        apply, [provider, base_url, model, api_key, language], [result, api_key, badge], api_name="apply_settings"
    )
