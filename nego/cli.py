"""The `nego` command line.

This package is the application shell: it builds `Settings` once, opens the
stores and calls into `copilot` (the core) and `evals`. Heavy libraries are
imported inside commands so `nego --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from copilot.settings import ConfigFileError, Settings
from copilot.vocabulary import DOC_TYPES, LANGUAGES, REGIONS, SCENARIOS

app = typer.Typer(
    name="nego",
    help="Negotiation copilot for blockchain solution sales (zh/en, offline by default).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Evaluations.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def load_settings(config: Path | None) -> Settings:
    from pydantic import ValidationError

    try:
        return Settings.load(config_file=config)
    except ConfigFileError as exc:
        fail(str(exc))
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings: {details}")


def _check_choice(name: str, value: str | None, allowed: Collection[str]) -> None:
    if value is not None and value not in allowed:
        fail(f"--{name}: unknown value {value!r}; choose one of: {', '.join(allowed)}")


ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file (default: NEGO_HOME/config.toml).")]


@app.command()
def index(
    corpus: Annotated[Path | None, typer.Option(help="Corpus directory (default: the shipped corpus).")] = None,
    rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again.")] = False,
    strict: Annotated[bool, typer.Option(help="Fail on any corpus problem, indexing nothing.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Validate the corpus and bring the index up to date (only changed documents are embedded)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from copilot.index.indexer import StrictIndexError, index_corpus
    from copilot.index.store import ChunkStore, IndexUnavailableError

    settings = load_settings(config)
    if corpus is not None and not corpus.is_dir():
        fail(f"--corpus: directory not found: {corpus}")
    try:
        store = ChunkStore.open(settings)
    except IndexUnavailableError as exc:
        fail(str(exc))
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
    from copilot.index.models import SearchFilters
    from copilot.index.retriever import QueryError, Retriever
    from copilot.index.store import ChunkStore, IndexUnavailableError

    settings = load_settings(config)
    try:
        store = ChunkStore.open(settings)
    except IndexUnavailableError as exc:
        fail(str(exc))
    if store.count() == 0:
        fail("the index is empty: run `nego index` first")
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
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore, IndexUnavailableError
    from evals.retrieval import DatasetError, default_dataset, evaluate, format_table, load_gold

    settings = load_settings(config)
    try:
        gold = load_gold(dataset or default_dataset())
    except DatasetError as exc:
        fail(str(exc))
    try:
        store = ChunkStore.open(settings)
    except IndexUnavailableError as exc:
        fail(str(exc))
    if store.count() == 0:
        fail("the index is empty: run `nego index` first")
    report = evaluate(Retriever(store), gold)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        typer.echo(format_table(report))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
