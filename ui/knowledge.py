"""The knowledge-base tab: filtered search (scores in the admin view), a document reader, a note form that
writes the front matter for the user, adding a corpus file, index status."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from copilot.corpus.loader import MAX_FILE_BYTES, Problem
from copilot.index.indexer import index_status
from copilot.index.models import SearchFilters
from copilot.index.retriever import QueryError
from copilot.library import add_document, document_view
from copilot.text.lang import detect_language
from copilot.vocabulary import DOC_TYPES, REGIONS, SCENARIOS
from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.notes import note_markdown
from ui.render import DOC_TYPE_KEYS, safe_md, source_links, type_label

ALL = ""
HIT_COLUMNS = ["#", "score", "dense", "sparse", "type", "doc_id", "title", "lang"]
MAX_K = 20
_ID_LINE = re.compile(r"^\s*(?:-\s+)?id:\s*['\"]?([a-z0-9]+(?:-[a-z0-9]+)*)", re.MULTILINE)


def status_md(ctx: AppContext, lang: str) -> str:
    status = index_status(ctx.settings, ctx.store)
    return ui_text(
        lang,
        "kb.index_status",
        documents=status.documents,
        chunks=status.chunks,
        updated=status.last_update or "—",
        embedding=status.embedding,
    )


def search_hits(
    ctx: AppContext, query: str, doc_type: str, scenario: str, region: str, language: str, k: float, ui_lang: str = "zh"
) -> tuple[Any, ...]:
    filters = SearchFilters(
        type=doc_type or None, scenario=scenario or None, region=region or None, language=language or None
    )
    try:
        hits = ctx.copilot.kb.search(query, k=max(1, min(MAX_K, int(k))), filters=filters)
    except QueryError as exc:
        return [], "⚠ " + safe_md(str(exc)), gr.skip()
    lang = language or detect_language(query)
    rows = [[n, h.score, h.dense, h.sparse, h.type, h.doc_id, h.title(lang), h.language] for n, h in enumerate(hits, 1)]
    passages = []
    for n, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())[:300]
        passages.append(
            f"**{n}. {safe_md(h.title(lang))}** · {type_label(h.type, lang)} · `{h.doc_id}`\n\n> {safe_md(snippet)}"
        )
    text = "\n\n".join(passages) if hits else ui_text(ui_lang, "kb.no_results")
    ids = [h.doc_id for h in hits]
    return rows, text, gr.Dropdown(choices=ids, value=ids[0] if ids else None)


def open_doc(ctx: AppContext, doc_id: str, lang: str) -> str:
    view = document_view(ctx.copilot.kb, doc_id or "", lang or "zh")
    if view is None:
        return ui_text(lang or "zh", "kb.no_document", id=safe_md(doc_id or ""))
    links = source_links(view.sources)
    meta = (
        f"# {safe_md(view.title)}\n\n"
        f"`{view.doc_id}` · {type_label(view.type, view.language)} · {safe_md(view.path)} · "
        f"updated {view.updated}\n\n"
        f"scenarios: {', '.join(view.scenarios)} · regions: {', '.join(view.regions)}\n\n"
        + (f"{ui_text(lang or 'zh', 'kb.sources')}: {links}\n\n" if links else "")
        + "---\n\n"
    )
    return meta + safe_md(view.text)


def pasted_name(text: str, fmt: str) -> str:
    """A file name for pasted text: the first `id:` it declares, else a placeholder the validator will judge."""
    match = _ID_LINE.search(text)
    suffix = ".md" if fmt == "markdown" else ".yaml"
    return (match.group(1) if match else "pasted-document") + suffix


def add_doc(
    ctx: AppContext,
    upload: str | None,
    pasted: str,
    fmt: str,
    progress: gr.Progress,
    name: str | None = None,
    lang: str = "zh",
) -> tuple[str, str]:
    if upload:
        path = Path(upload)
        name = path.name
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                problem = Problem(name, 1, "file", f"too large: {size:,} bytes (limit {MAX_FILE_BYTES:,})")
                return ui_text(lang, "kb.not_indexed") + f"\n\n```text\n{problem}\n```", gr.skip()
            content = path.read_bytes()
        except OSError as exc:
            return ui_text(lang, "kb.not_indexed_read", error=exc.strerror or "?"), gr.skip()
    elif (pasted or "").strip():
        name, content = name or pasted_name(pasted, fmt), pasted.encode("utf-8")
    else:
        return ui_text(lang, "kb.upload_first"), gr.skip()

    def report(done: int, total: int) -> None:
        progress((done, max(total, 1)), desc=ui_text(lang, "kb.indexing"))

    progress(0, desc=ui_text(lang, "kb.validating"))
    result = add_document(ctx.settings, ctx.store, name, content, progress=report)
    if not result.added:
        lines = "\n".join(result.problems)
        return (
            ui_text(lang, "kb.not_indexed_problems", count=len(result.problems)) + f"\n\n```text\n{lines}\n```",
            status_md(ctx, lang),
        )
    ctx.reload_knowledge()
    added = ", ".join(f"`{d}`" for d in result.doc_ids)
    summary = result.report.summary() if result.report else ""
    return ui_text(lang, "kb.added", added=added, path=result.path) + f"\n\n{summary}", status_md(ctx, lang)


@dataclass
class KbTab:
    status: gr.Markdown
    hits: gr.Dataframe
    """Scored hits: shown in the admin view only."""
    note_box: gr.Accordion
    note_text: gr.Textbox
    note_result: gr.Markdown


def add_note(
    ctx: AppContext,
    title: str,
    text: str,
    scenario: str,
    region: str,
    source: str,
    lang: str,
    progress: gr.Progress,
) -> tuple[str, str]:
    """A note from the form: front matter written for the user, then validated and indexed as a corpus file."""
    if not (title or "").strip() or not (text or "").strip():
        return ui_text(lang, "kb.note_empty"), gr.skip()
    name, content = note_markdown(
        title, text, scenario or "traceability", region or "global", title, (source or "").strip()
    )
    return add_doc(ctx, None, content, "markdown", progress, name=name, lang=lang)


def _choices_all(table: dict[str, tuple[str, str]]) -> Callable[[str], list[tuple[str, str]]]:
    def choices(lang: str) -> list[tuple[str, str]]:
        return [(ui_text(lang, "kb.all"), ALL), *[(zh if lang == "zh" else en, k) for k, (zh, en) in table.items()]]

    return choices


def build_knowledge_tab(ctx: AppContext, labels: Labels) -> KbTab:
    """Builds the tab; returns the components the app updates (index status, admin-only scores, the note form)."""
    t = labels.t
    lang = labels.lang
    status = labels.reg(gr.Markdown("", elem_id="index-status"), value=lambda code: status_md(ctx, code))
    with gr.Row():
        query = labels.reg(
            gr.Textbox(label=t("kb.search"), placeholder=t("kb.search_placeholder"), scale=4, elem_id="kb-query"),
            label="kb.search",
            placeholder="kb.search_placeholder",
        )
        k = labels.reg(gr.Slider(1, MAX_K, value=5, step=1, label=t("kb.k"), scale=1), label="kb.k")
    with gr.Row():
        types = {key: (type_label(key, "zh"), type_label(key, "en")) for key in DOC_TYPE_KEYS if key in DOC_TYPES}
        doc_type = labels.reg(
            gr.Dropdown(_choices_all(types)(lang), value=ALL, label=t("kb.type")),
            label="kb.type",
            choices=_choices_all(types),
        )
        scenario = labels.reg(
            gr.Dropdown(_choices_all(SCENARIOS)(lang), value=ALL, label=t("kb.scenario")),
            label="kb.scenario",
            choices=_choices_all(SCENARIOS),
        )
        region = labels.reg(
            gr.Dropdown(_choices_all(REGIONS)(lang), value=ALL, label=t("kb.region")),
            label="kb.region",
            choices=_choices_all(REGIONS),
        )
        languages = {"zh": ("中文", "中文"), "en": ("English", "English")}
        language = labels.reg(
            gr.Dropdown(_choices_all(languages)(lang), value=ALL, label=t("kb.language")),
            label="kb.language",
            choices=_choices_all(languages),
        )
        search = labels.reg(gr.Button(t("kb.search"), variant="primary", elem_id="kb-search"), value="kb.search")
    hits = labels.reg(
        gr.Dataframe(
            headers=HIT_COLUMNS, label=t("kb.hits"), interactive=False, wrap=True, visible=False, elem_id="kb-hits"
        ),
        label="kb.hits",
    )
    passages = gr.Markdown("", elem_id="kb-passages")
    with gr.Accordion(t("kb.note"), open=False, elem_id="kb-note") as note_box:
        note_title = labels.reg(gr.Textbox(label=t("kb.note_title"), elem_id="note-title"), label="kb.note_title")
        note_text = labels.reg(
            gr.Textbox(label=t("kb.note_text"), lines=6, max_lines=20, elem_id="note-text"), label="kb.note_text"
        )
        with gr.Row():
            note_scenario = labels.reg(
                gr.Dropdown(_choices_all(SCENARIOS)(lang)[1:], value="traceability", label=t("kb.note_scenario")),
                label="kb.note_scenario",
                choices=lambda code: _choices_all(SCENARIOS)(code)[1:],
            )
            note_region = labels.reg(
                gr.Dropdown(_choices_all(REGIONS)(lang)[1:], value="global", label=t("kb.note_region")),
                label="kb.note_region",
                choices=lambda code: _choices_all(REGIONS)(code)[1:],
            )
        note_source = labels.reg(
            gr.Textbox(label=t("kb.note_source"), placeholder="https://", elem_id="note-source"), label="kb.note_source"
        )
        note_add = labels.reg(gr.Button(t("kb.note_add"), variant="primary", elem_id="note-add"), value="kb.note_add")
        note_result = gr.Markdown("", elem_id="note-result")
    labels.reg(note_box, label="kb.note")
    with gr.Accordion(t("kb.open"), open=False) as open_box:
        with gr.Row():
            doc_id = labels.reg(
                gr.Dropdown(choices=[], label=t("kb.doc_id"), allow_custom_value=True, scale=3, elem_id="kb-doc-id"),
                label="kb.doc_id",
            )
            doc_lang = gr.Radio([("中文", "zh"), ("English", "en")], value=lang, show_label=False, scale=1)
            open_btn = labels.reg(gr.Button(t("kb.open_btn"), scale=1), value="kb.open_btn")
        document = gr.Markdown("", elem_id="kb-document", max_height=700)
    labels.reg(open_box, label="kb.open")
    with gr.Accordion(t("kb.add"), open=False) as add_box:
        labels.reg(gr.Markdown(t("kb.add_help")), value="kb.add_help")
        with gr.Row():
            upload = labels.reg(
                gr.File(label=t("kb.upload"), file_types=[".md", ".yaml", ".yml"], type="filepath", scale=1),
                label="kb.upload",
            )
            with gr.Column(scale=2):
                pasted = labels.reg(
                    gr.Textbox(label=t("kb.paste"), lines=8, max_lines=30, elem_id="kb-paste"), label="kb.paste"
                )
                fmt = labels.reg(
                    gr.Radio(
                        [
                            ("Markdown (case / policy / method)", "markdown"),
                            ("YAML (glossary / risk / playbook)", "yaml"),
                        ],
                        value="markdown",
                        label=t("kb.format"),
                    ),
                    label="kb.format",
                )
        add_btn = labels.reg(gr.Button(t("kb.add_btn"), variant="primary", elem_id="kb-add"), value="kb.add_btn")
        add_result = gr.Markdown("", elem_id="kb-add-result")
    labels.reg(add_box, label="kb.add")
    refresh = labels.reg(gr.Button(t("kb.refresh"), size="sm"), value="kb.refresh")

    def run_search(
        query: str, doc_type: str, scenario: str, region: str, language: str, k: float, ui_language: str
    ) -> tuple[Any, ...]:
        return search_hits(ctx, query, doc_type, scenario, region, language, k, ui_language)

    search_inputs = [query, doc_type, scenario, region, language, k, labels.language_input()]
    search.click(run_search, search_inputs, [hits, passages, doc_id], api_name="search", concurrency_id="copilot")
    query.submit(
        run_search, search_inputs, [hits, passages, doc_id], api_visibility="private", concurrency_id="copilot"
    )

    def open_document(doc_id: str, lang: str) -> str:
        return open_doc(ctx, doc_id, lang)

    open_btn.click(open_document, [doc_id, doc_lang], [document], api_name="open_document")

    def add(
        upload: str | None,
        pasted: str,
        fmt: str,
        ui_language: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, str]:
        return add_doc(ctx, upload, pasted, fmt, progress, lang=ui_language)

    # One indexing run at a time: the store has one writer.
    add_inputs = [upload, pasted, fmt, labels.language_input()]
    add_btn.click(add, add_inputs, [add_result, status], api_name="add_document", concurrency_limit=1)

    def note(
        title: str,
        text: str,
        scenario: str,
        region: str,
        source: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, str]:
        lang = detect_language(f"{title} {text}", default=labels.lang)
        return add_note(ctx, title, text, scenario, region, source, lang, progress)

    note_add.click(
        note,
        [note_title, note_text, note_scenario, note_region, note_source],
        [note_result, status],
        api_name="add_note",
        concurrency_limit=1,
    )

    def refresh_status(ui_language: str) -> str:
        return status_md(ctx, ui_language)

    refresh.click(refresh_status, [labels.language_input()], [status], api_name="index_status")
    return KbTab(status, hits, note_box, note_text, note_result)
