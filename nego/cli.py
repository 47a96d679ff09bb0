"""The `nego` command line.

This package is the application shell: it builds `Settings` once, opens the
stores and calls into `copilot` (the core) and `evals`. Heavy libraries are
imported inside commands so `nego --help` stays fast.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot.vocabulary import DOC_TYPES, LANGUAGES, REGIONS, SCENARIOS
from nego.base import (
    AudienceOpt,
    ConfigOpt,
    CustomerOpt,
    DealOpt,
    GoalOpt,
    JsonOpt,
    LangOpt,
    PainOpt,
    ProviderOpt,
    RegionOpt,
    ScenarioOpt,
    StageOpt,
    VendorOpt,
    _check_choice,
    _deal,
    app,
    eval_app,
    fail,
    load_settings,
    open_copilot,
    open_store,
)
from nego.output import emit, finish, print_notices, show_event, stream_result


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


ChoicesOpt = Annotated[
    bool, typer.Option("--explain-choices", help="Show each sentence's relevance to the deal and why (stderr).")
]
HorizonOpt = Annotated[
    int | None, typer.Option(help="Plan horizon in months (default: the deal's timeline, else 12).", min=3, max=60)
]


def _show(copilot: Any, call: Callable[[Any], Any], as_json: bool, deal: Any = None, choices: bool = False) -> None:
    """Print one skill's result; in LLM mode (not --json) the model's draft streams as it is written.

    `choices` (--explain-choices): then each candidate sentence's relevance to the deal, with its reasons.
    """
    if as_json or copilot.mode == "offline" or choices:
        result = call(copilot)
        emit(result, as_json)
        _choices(copilot, result, deal, choices)
    else:
        stream_result(copilot, lambda: call(copilot))


def _choices(copilot: Any, result: Any, deal: Any, show: bool) -> None:
    """`--explain-choices`: each candidate sentence with its relevance score and reasons, on stderr."""
    if not show or deal is None:
        return
    for choice in sorted(copilot.choices(result, deal), key=lambda c: -c.score):
        text = " ".join(choice.text.split())[:100]
        typer.echo(f"[{choice.score:.0f}] {choice.kind}: {text} <- {'; '.join(choice.reasons)}", err=True)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Any question, in Chinese or English.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A grounded answer with citations, or a clear "the knowledge base has nothing on this"."""
    if _blank(question):
        fail("the question is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, required=False)
    _show(open_copilot(config, provider, lang, vendor), lambda c: c.ask(question, deal, lang), as_json)


@app.command()
def explain(
    text: Annotated[str, typer.Argument(help="Technical text or a list of terms to turn into a business story.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Turn jargon into a business-outcome story for the audience, with proof from a real case."""
    if _blank(text):
        fail("the text to explain is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(
        open_copilot(config, provider, lang, vendor),
        lambda c: c.explain(deal, text, lang),
        as_json,
        deal,
        explain_choices,
    )


@app.command()
def risks(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A risk checklist: likelihood and impact, mitigation, owner, warning signals, evidence."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(open_copilot(config, provider, lang, vendor), lambda c: c.risks(deal, lang), as_json, deal, explain_choices)


@app.command()
def plan(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    horizon: HorizonOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Phased milestones with KPIs (the buyer's own numbers where given) and tasks on both sides."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(
        open_copilot(config, provider, lang, vendor),
        lambda c: c.plan(deal, horizon, lang),
        as_json,
        deal,
        explain_choices,
    )


@app.command()
def fit(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Does this problem need a blockchain at all? A verdict, reasons, and what to offer instead."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(open_copilot(config, provider, lang, vendor), lambda c: c.fit(deal, lang), as_json, deal, explain_choices)


@app.command()
def objection(
    text: Annotated[str, typer.Argument(help="The objection, in the buyer's words.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """The concern behind an objection, a response with proof, and a question back."""
    if _blank(text):
        fail("the objection is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, customer, region)
    _show(
        open_copilot(config, provider, lang, vendor),
        lambda c: c.objection(deal, text, lang),
        as_json,
        deal,
        explain_choices,
    )


@app.command()
def brief(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="md, docx or json.")] = "md",
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write to this file (required for docx).")] = None,
    horizon: HorizonOpt = None,
    card: Annotated[bool, typer.Option("--card", help="The one-page prep card alone (md or json).")] = False,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A meeting brief: the one-page prep card, then its appendices (story, demo, objections, risks, plan…)."""
    from copilot.export import FORMATS, brief_to_json, card_to_json, card_to_markdown, export_brief

    _check_choice("format", fmt, FORMATS)
    if fmt == "docx" and out is None:
        fail("--format docx needs -o FILE")
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    copilot = open_copilot(config, provider, lang, vendor)
    result = copilot.brief(deal, lang, horizon)
    _choices(copilot, result, deal, explain_choices)
    for notice in result.notices:
        typer.secho(f"[{notice.kind}] {notice.message}", fg=typer.colors.YELLOW, err=True)
    if out is not None:
        try:
            export_brief(result, fmt, out, card_only=card)  # type: ignore[arg-type]
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror}")
        typer.echo(f"wrote {out}")
    elif card:
        typer.echo(card_to_json(result) if as_json or fmt == "json" else card_to_markdown(result))
    elif as_json or fmt == "json":
        typer.echo(brief_to_json(result))
    else:
        typer.echo(result.text)


@app.command()
def chat(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Chat with the copilot about a deal (one message per line; /exit or Ctrl-D to leave)."""
    from copilot.core import ChatTurn

    deal = _deal(deal_file, scenario, customer, region)
    copilot = open_copilot(config, provider, lang, vendor)
    history: list[ChatTurn] = []
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            typer.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line or line.strip() in {"/exit", "/quit"}:
            break
        message = line.strip()
        if not message:
            continue
        shown, reply = "", ""
        for event in copilot.chat(message, history, deal):
            if event.kind == "replace" and event.result is not None:
                finish(event.result, shown)  # LLM mode, the checked answer: the draft's sources, or a correction
                reply = event.result.text
            elif event.kind in ("text", "replace"):
                shown = show_event(event, shown)
            elif event.kind == "deal" and event.deal is not None:  # a constraint the message stated
                deal = event.deal
                if event.notice:
                    print_notices([event.notice], newline_first=True)
            elif event.kind == "notice" and event.notice and copilot.mode == "offline":
                print_notices([event.notice], newline_first=True)
        if copilot.mode == "offline":
            typer.echo("")
            reply = shown
        history += [ChatTurn(role="user", content=message), ChatTurn(role="assistant", content=reply)]


from nego import deal_cli as _deal_cli  # noqa: E402,F401  (registers `nego deal check`)
from nego import eval_cli as _eval_cli  # noqa: E402,F401  (registers `nego eval run|compare|…`)
from nego import meeting_cli as _meeting_cli  # noqa: E402,F401  (registers `nego roleplay`, `recap`, `deal versions…`)
from nego import negotiate_cli as _negotiate_cli  # noqa: E402,F401  (registers `nego negotiate`)
from nego import ui_cli as _ui_cli  # noqa: E402,F401  (registers `nego ui`)


@app.command()
def doctor(config: ConfigOpt = None) -> None:
    """Check settings, the corpus, the index, offline tokenizers and the model endpoint ("test connection")."""
    from copilot.connection import check_connection, model_label
    from copilot.corpus.loader import load_corpus
    from copilot.index.indexer import index_status, pending_changes
    from copilot.index.store import ChunkStore, IndexUnavailableError
    from copilot.text.tokens import TokenizerDataError, get_encoding

    settings = load_settings(config)
    ok = True

    def report(good: bool, what: str, detail: str) -> None:
        nonlocal ok
        ok = ok and good
        typer.secho(f"{'ok  ' if good else 'FAIL'} {what}: {detail}", fg=None if good else typer.colors.RED)

    report(True, "data directory", str(settings.home_dir))
    report(True, "mode", model_label(settings))
    loaded = load_corpus(settings.corpus_path)
    report(
        not loaded.problems,
        "corpus",
        f"{len(loaded.documents)} documents, {len(loaded.problems)} problems ({settings.corpus_path})",
    )
    try:
        for name in ("cl100k_base", "o200k_base"):
            get_encoding(name)
        report(True, "tokenizers", "cl100k_base and o200k_base load offline (sha256 verified)")
    except TokenizerDataError as exc:
        report(False, "tokenizers", str(exc))
    try:
        store = ChunkStore.open(settings)
        status = index_status(settings, store)
        todo = pending_changes(settings, store, loaded.documents)
        fresh = status.chunks > 0 and not todo
        detail = f"{status.documents} documents, {status.chunks} chunks, last update {status.last_update or 'never'}"
        if todo:
            detail += f"; {todo} document(s) to (re)index: run `nego index`"
        report(fresh, "index", f"{detail} ({status.location})")
    except IndexUnavailableError as exc:
        report(False, "index", str(exc))
    check = check_connection(settings, settings.language)
    latency = f" ({check.latency_ms:.0f} ms)" if check.latency_ms is not None else ""
    report(check.ok, "endpoint", check.message + latency)
    if not ok:
        raise typer.Exit(1)


def _blank(text: str) -> bool:
    from copilot.text.limits import is_blank

    return is_blank(text)


def _crash_report(exc: BaseException) -> str:
    """Write the traceback of an unexpected error to a file; the user sees one line naming that file."""
    with tempfile.NamedTemporaryFile("w", prefix="nego-error-", suffix=".log", delete=False) as out:
        traceback.print_exception(exc, file=out)
    return out.name


def main() -> None:
    """The `nego` entry point: every failure ends in one `error: ...` line on stderr, never a traceback.

    Usage errors (a bad option value, an unknown option) exit 2, like typer's own handling but
    on one line; an unexpected error exits 1 and leaves its traceback in a log file for a bug report.
    """
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from copilot.inputs import EmptyInputError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        help_text = exc.format_message().strip()  # typer's rich mode has already printed the help
        if help_text:
            typer.echo(help_text, err=True)
        sys.exit(2)
    except UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        typer.secho(f"error: {' '.join(exc.format_message().split())}{hint}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        typer.secho(f"error: {' '.join(exc.format_message().split())}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except EmptyInputError as exc:  # e.g. a question of control characters only: a usage error
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        log = _crash_report(exc)
        message = " ".join(str(exc).split())[:300]
        typer.secho(
            f"error: unexpected {type(exc).__name__}: {message} (details in {log}; please report it)",
            fg=typer.colors.RED,
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
