"""Settings → vendor profile: what we sell, edited as YAML in the app.

The box shows the profile in use (NEGO_HOME/vendor.yaml, or the file given with `--vendor`). "Check and
save" validates it the way `copilot.vendor` loads a file (an error names the line and the field), writes
it to NEGO_HOME/vendor.yaml only when it is valid, and switches the running copilot to it, so the next
answer follows it. A bad edit changes nothing: the saved profile stays, the edit stays in the box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from copilot.vendor import VendorError, default_vendor_path, save_vendor
from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.render import safe_md

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vendor.yaml"


def current_text(ctx: AppContext) -> str:
    path = ctx.settings.vendor_path
    if path is None or not path.is_file():
        return ""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


def vendor_status(ctx: AppContext, lang: str) -> str:
    vendor = ctx.copilot.vendor
    path = ctx.settings.vendor_path
    if vendor is None or path is None:
        return ui_text(lang, "vendor.none")
    return ui_text(lang, "vendor.current", product=safe_md(vendor.product), path=f"`{path}`")


def save_profile(ctx: AppContext, text: str, lang: str) -> str:
    """Validate `text`, write it to NEGO_HOME/vendor.yaml and use it; a one-line message either way."""
    if not (text or "").strip():
        return ui_text(lang, "vendor.empty")
    path = default_vendor_path(ctx.settings.home_dir)
    try:
        profile = save_vendor(text, path)
    except VendorError as exc:
        return ui_text(lang, "vendor.invalid") + " " + safe_md(str(exc))
    except OSError as exc:
        return "❌ " + safe_md(str(exc))
    ctx.apply_settings({"vendor_file": path})
    return ui_text(lang, "vendor.saved", path=f"`{path}`", product=safe_md(profile.product))


def add_vendor_settings(ctx: AppContext, labels: Labels, ui_lang: gr.Radio) -> None:
    """The vendor profile's section of the settings tab (`ui_lang`: the interface language switch)."""
    t = labels.t
    with labels.reg(gr.Accordion(t("vendor.title"), open=False, elem_id="vendor-profile"), label="vendor.title"):
        labels.reg(gr.Markdown(t("vendor.intro")), value="vendor.intro")
        status = gr.Markdown(vendor_status(ctx, labels.lang), elem_id="vendor-status")
        text = labels.reg(
            gr.Textbox(current_text(ctx), label=t("vendor.text"), lines=14, max_lines=40, elem_id="vendor-text"),
            label="vendor.text",
        )
        with gr.Row():
            example = labels.reg(
                gr.Button(t("vendor.example"), size="sm", elem_id="vendor-example"), value="vendor.example"
            )
            save = labels.reg(
                gr.Button(t("vendor.save"), variant="primary", size="sm", elem_id="vendor-save"), value="vendor.save"
            )
        result = gr.Markdown("", elem_id="vendor-result")

    example.click(lambda: EXAMPLE.read_text(encoding="utf-8"), None, [text], api_name="vendor_example")

    def on_save(profile: str, lang: str) -> tuple[Any, ...]:
        message = save_profile(ctx, profile, lang)
        return message, vendor_status(ctx, lang)

    save.click(on_save, [text, ui_lang], [result, status], api_name="save_vendor")
