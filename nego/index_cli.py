"""`nego index`, `nego search` and `nego eval retrieval`: the knowledge base's index, built, searched and measured
(registered onto nego.base's `app` and `eval_app`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from copilot.vocabulary import DOC_TYPES, LANGUAGES, REGIONS, SCENARIOS
from nego.base import (
    ConfigOpt,
    _check_choice,
    app,
    eval_app,
    fail,
    load_settings,
    open_store,
)


@app.command()
def index(
    corpus: Annotated[Path | None, typer.Option(help="Corpus directory (default: the shipped corpus).")] = None,
    rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again.")] = False,
    strict: Annotated[bool, typer.Option(help="Fail on any corpus problem, indexing nothing.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Validate the corpus and bring the index up to date (only changed documents are embedded)."""
    settings = load_settings(config)  # bad settings fail before the heavy imports below
    if corpus is not None and not corpus.is_dir():
        fail(f"--corpus: directory not found: {corpus}")
    if corpus is None and not settings.corpus_path.is_dir():
        # Indexing a corpus that is not there would empty the index: refuse instead.
        fail(f"corpus directory not found: {settings.corpus_path} (NEGO_CORPUS_DIR / corpus_dir); nothing indexed")
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from copilot.index.indexer import StrictIndexError, index_corpus

    store = open_store(settings, recover=True)
    with Progress(
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("index", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = index_corpus(settings, store, corpus, rebuild=rebuild, strict=strict, progress=progress)
        except StrictIndexError as exc:
            bar.stop()
            for problem in exc.problems:
                typer.echo(problem, err=True)
            fail(f"{len(exc.problems)} corpus problem(s) (--strict): nothing indexed", code=1)
    for problem in report.problems:
        typer.echo(problem, err=True)
    typer.echo(report.summary())


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Chinese or English.")],
    k: Annotated[int, typer.Option("-k", help="Number of documents to return.", min=1, max=100)] = 5,
    type: Annotated[str | None, typer.Option("--type", help=f"One of: {', '.join(DOC_TYPES)}.")] = None,
    scenario: Annotated[str | None, typer.Option(help="A scenario key.")] = None,
    region: Annotated[str | None, typer.Option(help="A region key (cn, eu, us…).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Only passages in this language (zh|en).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as a JSON list.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Search the knowledge base (hybrid BM25 + dense)."""
    _check_choice("type", type, DOC_TYPES)
    _check_choice("scenario", scenario, SCENARIOS)
    _check_choice("region", region, REGIONS)
    _check_choice("lang", lang, LANGUAGES)
    settings = load_settings(config)
    from copilot.index.models import SearchFilters
    from copilot.index.retriever import QueryError, Retriever

    store = open_store(settings)
    if store.count() == 0:
        fail(f"the index at {store.where} is empty: run `nego index` first")
    retriever = Retriever(store)
    try:
        hits = retriever.search(
            query, k=k, filters=SearchFilters(type=type, scenario=scenario, region=region, language=lang)
        )
    except QueryError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps([h.model_dump(mode="json") for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        typer.echo("no results")
    display_lang = lang or ("zh" if any("\u4e00" <= ch <= "\u9fff" for ch in query) else "en")
    for rank, hit in enumerate(hits, 1):
        snippet = " ".join(hit.text.split())[:160]
        typer.echo(f"{rank}. [{hit.type}] {hit.title(display_lang)}  ({hit.doc_id}, score {hit.score:.4f})")
        typer.echo(f"   {snippet}")


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[Path | None, typer.Option(help="Gold queries (JSONL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Recall@5 and MRR@10 of BM25 only, dense only and hybrid on the gold queries."""
    settings = load_settings(config)
    from copilot.index.retriever import Retriever
    from evals.retrieval import DatasetError, default_dataset, evaluate, format_table, load_gold

    try:
        gold = load_gold(dataset or default_dataset())
    except DatasetError as exc:
        fail(str(exc))
    store = open_store(settings)
    if store.count() == 0:
        fail(f"the index at {store.where} is empty: run `nego index` first")
    report = evaluate(Retriever(store), gold)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        typer.echo(format_table(report))
