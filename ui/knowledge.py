"""The knowledge-base tab: filtered search with scores, a document reader, adding a document, index status."""

from __future__ import annotations

import re
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
from ui.render import TYPE_LABELS, safe_md, source_links, type_label

ALL = ""
HIT_COLUMNS = ["#", "score", "dense", "sparse", "type", "doc_id", "title", "lang"]
MAX_K = 20
_ID_LINE = re.compile(r"^\s*(?:-\s+)?id:\s*['\"]?([a-z0-9]+(?:-[a-z0-9]+)*)", re.MULTILINE)


def _all(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("全部 All", ALL), *choices]


def status_md(ctx: AppContext) -> str:
    status = index_status(ctx.settings, ctx.store)
    return (
        f"**索引 Index:** {status.documents} documents · {status.chunks} chunks · "
        f"last update {status.last_update or '—'} · embedding `{status.embedding}`"
    )


def search_hits(
    ctx: AppContext, query: str, doc_type: str, scenario: str, region: str, language: str, k: float
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
            f"**{n}. {safe_md(h.title(lang))}** · {type_label(h.type, lang)} · `{h.doc_id}` · score {h.score:.4f}\n\n"
            f"> {safe_md(snippet)}"
        )
    text = "\n\n".join(passages) if hits else "没有结果 / No results"
    ids = [h.doc_id for h in hits]
    return rows, text, gr.Dropdown(choices=ids, value=ids[0] if ids else None)


def open_doc(ctx: AppContext, doc_id: str, lang: str) -> str:
    view = document_view(ctx.copilot.kb, doc_id or "", lang or "zh")
    if view is None:
        return f"⚠ 没有这个文档 / No document with id `{safe_md(doc_id or '')}`"
    links = source_links(view.sources)
    meta = (
        f"# {safe_md(view.title)}\n\n"
        f"`{view.doc_id}` · {type_label(view.type, view.language)} · {safe_md(view.path)} · "
        f"updated {view.updated}\n\n"
        f"scenarios: {', '.join(view.scenarios)} · regions: {', '.join(view.regions)}\n\n"
        + (f"来源 Sources: {links}\n\n" if links else "")
        + "---\n\n"
    )
    return meta + safe_md(view.text)


def pasted_name(text: str, fmt: str) -> str:
    """A file name for pasted text: the first `id:` it declares, else a placeholder the validator will judge."""
    match = _ID_LINE.search(text)
    suffix = ".md" if fmt == "markdown" else ".yaml"
    return (match.group(1) if match else "pasted-document") + suffix


def add_doc(ctx: AppContext, upload: str | None, pasted: str, fmt: str, progress: gr.Progress) -> tuple[str, str]:
    if upload:
        path = Path(upload)
        name = path.name
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                problem = Problem(name, 1, "file", f"too large: {size:,} bytes (limit {MAX_FILE_BYTES:,})")
                return f"❌ 未索引任何内容 / Nothing was indexed\n\n```text\n{problem}\n```", gr.skip()
            content = path.read_bytes()
        except OSError as exc:
            return f"❌ 未索引任何内容 / Nothing was indexed: cannot read the upload ({exc.strerror})", gr.skip()
    elif (pasted or "").strip():
        name, content = pasted_name(pasted, fmt), pasted.encode("utf-8")
    else:
        return "⚠ 请上传文件或粘贴文档 / Upload a file or paste a document first", gr.skip()

    def report(done: int, total: int) -> None:
        progress((done, max(total, 1)), desc="索引中 Indexing")

    progress(0, desc="校验中 Validating")
    result = add_document(ctx.settings, ctx.store, name, content, progress=report)
    if not result.added:
        lines = "\n".join(result.problems)
        return (
            f"❌ 未索引任何内容 / Nothing was indexed: {len(result.problems)} problem(s)\n\n```text\n{lines}\n```",
            status_md(ctx),
        )
    ctx.reload_knowledge()
    added = ", ".join(f"`{d}`" for d in result.doc_ids)
    summary = result.report.summary() if result.report else ""
    return f"✅ 已加入并索引 / Added and indexed: {added} → `{result.path}`\n\n{summary}", status_md(ctx)


def build_knowledge_tab(ctx: AppContext) -> gr.Markdown:
    """Builds the tab; returns the index-status component (refreshed when a page loads)."""
    status = gr.Markdown("", elem_id="index-status")
    with gr.Row():
        query = gr.Textbox(label="搜索 Search", placeholder="沃尔玛芒果溯源 / TradeLens", scale=4, elem_id="kb-query")
        k = gr.Slider(1, MAX_K, value=5, step=1, label="结果数 k", scale=1)
    with gr.Row():
        doc_type = gr.Dropdown(
            _all([(f"{zh} {en}", key) for key, (zh, en) in TYPE_LABELS.items() if key in DOC_TYPES]),
            value=ALL,
            label="类型 Type",
        )
        scenario = gr.Dropdown(
            _all([(f"{zh} {en}", key) for key, (zh, en) in SCENARIOS.items()]), value=ALL, label="场景 Scenario"
        )
        region = gr.Dropdown(
            _all([(f"{zh} {en}", key) for key, (zh, en) in REGIONS.items()]), value=ALL, label="地区 Region"
        )
        language = gr.Dropdown([("全部 All", ALL), ("中文", "zh"), ("English", "en")], value=ALL, label="语言 Language")
        search = gr.Button("搜索 Search", variant="primary", elem_id="kb-search")
    hits = gr.Dataframe(
        headers=HIT_COLUMNS,
        label="命中 Hits (hybrid score; dense = cosine, sparse = BM25)",
        interactive=False,
        wrap=True,
    )
    passages = gr.Markdown("", elem_id="kb-passages")
    with gr.Accordion("打开文档 Open a document", open=False):
        with gr.Row():
            doc_id = gr.Dropdown(
                choices=[], label="文档 id Document id", allow_custom_value=True, scale=3, elem_id="kb-doc-id"
            )
            doc_lang = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", label="语言 Language", scale=1)
            open_btn = gr.Button("打开 Open", scale=1)
        document = gr.Markdown("", elem_id="kb-document", max_height=700)
    with gr.Accordion("添加文档 Add a document", open=False):
        gr.Markdown(
            "上传或粘贴一个语料文件（格式见 corpus/README.md）。先校验：有任何问题就什么都不索引。"
            " / Upload or paste one corpus file (format: corpus/README.md). It is validated first: on any problem "
            "nothing is written or indexed."
        )
        with gr.Row():
            upload = gr.File(
                label="上传 Upload (.md / .yaml)", file_types=[".md", ".yaml", ".yml"], type="filepath", scale=1
            )
            with gr.Column(scale=2):
                pasted = gr.Textbox(label="或粘贴 Or paste", lines=8, max_lines=30, elem_id="kb-paste")
                fmt = gr.Radio(
                    [("Markdown (case / policy / method)", "markdown"), ("YAML (glossary / risk / playbook)", "yaml")],
                    value="markdown",
                    label="格式 Format",
                )
        add_btn = gr.Button("校验并索引 Validate and index", variant="primary", elem_id="kb-add")
        add_result = gr.Markdown("", elem_id="kb-add-result")
    refresh = gr.Button("刷新索引状态 Refresh index status", size="sm")

    def run_search(query: str, doc_type: str, scenario: str, region: str, language: str, k: float) -> tuple[Any, ...]:
        return search_hits(ctx, query, doc_type, scenario, region, language, k)

    search_inputs = [query, doc_type, scenario, region, language, k]
    search.click(run_search, search_inputs, [hits, passages, doc_id], api_name="search", concurrency_id="copilot")
    query.submit(
        run_search, search_inputs, [hits, passages, doc_id], api_visibility="private", concurrency_id="copilot"
    )

    def open_document(doc_id: str, lang: str) -> str:
        return open_doc(ctx, doc_id, lang)

    open_btn.click(open_document, [doc_id, doc_lang], [document], api_name="open_document")

    def add(upload: str | None, pasted: str, fmt: str, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        return add_doc(ctx, upload, pasted, fmt, progress)

    # One indexing run at a time: the store has one writer.
    add_btn.click(add, [upload, pasted, fmt], [add_result, status], api_name="add_document", concurrency_limit=1)

    def refresh_status() -> str:
        return status_md(ctx)

    refresh.click(refresh_status, None, [status], api_name="index_status")
    return status
