"""The settings tab: provider, base URL, model, API key (write-only), a connection test, default language.

Below them, the vendor profile (what we sell) is edited as YAML (ui/vendor_settings.py).
The API key box is write-only: it always shows empty, a key typed into it is
used and then cleared, and nothing here ever returns, prints or logs a key.
"Apply" switches this running app; "Save" also writes provider, base URL, model and
language to NEGO_HOME/config.toml (never the API key: keep it in NEGO_API_KEY).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, get_args

import gradio as gr
from pydantic import SecretStr, ValidationError

from copilot.connection import check_connection
from copilot.export import write_atomic
from copilot.settings import Settings
from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.render import safe_md
from ui.vendor_settings import add_vendor_settings

PROVIDERS: tuple[str, ...] = get_args(Settings.model_fields["provider"].annotation)


def key_state(settings: Settings, lang: str = "zh") -> str:
    return ui_text(lang, "settings.key_set" if settings.api_key is not None else "settings.key_not_set")


def _key_placeholder(settings: Settings, lang: str) -> str:
    return f"{key_state(settings, lang)} · {ui_text(lang, 'settings.key_hint')}"


SAVED_FIELDS = ("provider", "base_url", "model", "language")
"""What "Save" writes to NEGO_HOME/config.toml. Never the API key."""


def _toml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def save_config(settings: Settings) -> Path:
    """Write the UI's settings into NEGO_HOME/config.toml, keeping the file's other settings; never the key."""
    path = settings.home_dir / "config.toml"
    values: dict[str, Any] = {}
    if path.is_file():
        values = {k: v for k, v in tomllib.loads(path.read_text(encoding="utf-8")).items() if k != "api_key"}
    for name in SAVED_FIELDS:
        value = getattr(settings, name)
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    lines = ["# Written by the app's Settings tab (the API key is never stored here: use NEGO_API_KEY)."]
    for name, value in values.items():
        if isinstance(value, str | int | float | bool):
            lines.append(f"{name} = {_toml_value(value)}")
        else:
            lines.append(f"{name} = {_toml_value(str(value))}")

    def write(tmp: Path) -> None:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, write)


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


def build_settings_tab(ctx: AppContext, badge: gr.Markdown, labels: Labels, ui_lang: gr.Radio) -> None:
    s = ctx.settings
    t = labels.t
    provider = labels.reg(
        gr.Dropdown(list(PROVIDERS), value=s.provider, label=t("settings.provider"), elem_id="settings-provider"),
        label="settings.provider",
    )
    base_url = gr.Textbox(
        s.base_url or "", label="Base URL", placeholder="http://127.0.0.1:8000/v1", elem_id="settings-base-url"
    )
    model = labels.reg(
        gr.Textbox(s.model or "", label=t("settings.model"), elem_id="settings-model"), label="settings.model"
    )
    api_key = labels.reg(
        gr.Textbox(
            "",
            label=t("settings.api_key"),
            type="password",
            placeholder=_key_placeholder(s, labels.lang),
            elem_id="settings-api-key",
        ),
        label="settings.api_key",
        placeholder=lambda lang: _key_placeholder(ctx.settings, lang),
    )
    language = labels.reg(
        gr.Radio([("中文", "zh"), ("English", "en")], value=s.language, label=t("settings.language")),
        label="settings.language",
    )
    with gr.Row():
        test_btn = labels.reg(gr.Button(t("settings.test"), elem_id="settings-test"), value="settings.test")
        apply_btn = labels.reg(
            gr.Button(t("settings.apply"), variant="primary", elem_id="settings-apply"), value="settings.apply"
        )
        save_btn = labels.reg(gr.Button(t("settings.save"), elem_id="settings-save"), value="settings.save")
    result = gr.Markdown("", elem_id="settings-result")
    labels.reg(gr.Markdown(t("settings.note")), value="settings.note")
    add_vendor_settings(ctx, labels, ui_lang)

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
        placeholder = _key_placeholder(settings, language)
        return (
            ui_text(language, "settings.applied"),
            gr.Textbox(value="", placeholder=placeholder),
            ctx.mode_badge(language),
        )

    apply_btn.click(
        apply, [provider, base_url, model, api_key, language], [result, api_key, badge], api_name="apply_settings"
    )

    def save(provider: str, base_url: str, model: str, api_key: str, language: str) -> tuple[Any, ...]:
        """Apply, then keep: the settings (never the key) go to NEGO_HOME/config.toml."""
        message, key_box, mode = apply(provider, base_url, model, api_key, language)
        if message.startswith("❌"):
            return message, key_box, mode
        try:
            path = save_config(ctx.settings)
        except OSError as exc:
            return f"❌ {safe_md(str(exc))}", key_box, mode
        return ui_text(language, "settings.saved", path=f"`{path}`"), key_box, mode

    save_btn.click(
        save, [provider, base_url, model, api_key, language], [result, api_key, badge], api_name="save_settings"
    )
