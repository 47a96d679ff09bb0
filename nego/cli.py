"""The `nego` command line.

This package is the application shell: it builds `Settings` once, opens the
stores and calls into `copilot` (the core) and `evals`. Heavy libraries are
imported inside commands so `nego --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, NoReturn

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


def _setting_source(name: str, config: Path | None) -> str:
    """Where a bad setting came from, for the message: its NEGO_* variable, else the config file."""
    env = f"NEGO_{name.upper()}"
    if env in os.environ:
        return env
    path = config or (Path(os.environ["NEGO_CONFIG"]) if os.environ.get("NEGO_CONFIG") else None)
    if path is None:
        home = Path(os.environ.get("NEGO_HOME", "~/.nego")).expanduser()
        path = home / "config.toml" if (home / "config.toml").is_file() else None
    return f"{path}: {name}" if path is not None else name


def _check_home(settings: Settings) -> None:
    """The data folder must be a folder we can write: say so now, not as a failure deep in Chroma or SQLite."""
    home = settings.home_dir
    if home.exists() and not home.is_dir():
        fail(f"data folder {home} (NEGO_HOME) is a file, not a folder")
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"data folder {home} (NEGO_HOME) cannot be created: {exc.strerror}")
    if not os.access(home, os.W_OK | os.X_OK):
        fail(f"data folder {home} (NEGO_HOME) is not writable")


def load_settings(config: Path | None) -> Settings:
    from pydantic import ValidationError

    try:
        settings = Settings.load(config_file=config)
    except ConfigFileError as exc:
        fail(str(exc))
    except ValidationError as exc:
        details = []
        for e in exc.errors():
            name = ".".join(str(p) for p in e["loc"])
            got = f" (got {e['input']!r})" if e["type"] == "literal_error" else ""
            details.append(f"{_setting_source(name, config)}: {e['msg']}{got}")
        fail(f"invalid settings: {'; '.join(details)}")
    _check_home(settings)
    return settings


def open_store(settings: Settings, recover: bool = False) -> Any:
    """The index store, or a clear error (never a traceback) when it cannot be opened.

    `recover` (`nego index`): a damaged embedded index is moved aside and a new one is built.
    """
    from copilot.index.store import ChunkStore, IndexUnavailableError

    try:
        store = ChunkStore.open(settings, recover=recover)
    except IndexUnavailableError as exc:
        fail(str(exc))
    if store.moved_aside is not None:
        typer.secho(
            f"{store.damage}: moved it aside to {store.moved_aside} (delete it once the new index works); "
            "indexing the corpus again",
            fg=typer.colors.YELLOW,
            err=True,
        )
    return store


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


# -- the copilot's skills ----------------------------------------------------------------------------
DealOpt = Annotated[Path | None, typer.Option("--deal", help="Deal file (YAML or JSON).")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="Output language: zh or en (default: the deal's).")]
ProviderOpt = Annotated[
    str | None, typer.Option("--provider", help="offline, or a configured provider (openai, deepseek, qwen…).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result model as JSON.")]
ScenarioOpt = Annotated[str | None, typer.Option("--scenario", help="Scenario key (when no --deal).")]
CustomerOpt = Annotated[str | None, typer.Option("--customer", help="Customer name (when no --deal).")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="Region key (when no --deal).")]
PainOpt = Annotated[list[str] | None, typer.Option("--pain", help="A pain in the buyer's words (repeatable).")]
GoalOpt = Annotated[list[str] | None, typer.Option("--goal", help="A goal, with the buyer's numbers (repeatable).")]
AudienceOpt = Annotated[list[str] | None, typer.Option("--audience", help="A role at the table (repeatable).")]
StageOpt = Annotated[str | None, typer.Option("--stage", help="discovery, proposal, negotiation or closing.")]


def _deal(
    deal_file: Path | None,
    scenario: str | None,
    customer: str | None = None,
    region: str | None = None,
    pains: list[str] | None = None,
    goals: list[str] | None = None,
    audience: list[str] | None = None,
    stage: str | None = None,
    required: bool = True,
) -> Any:
    from copilot.deal import DealError, deal_from_data, load_deal

    try:
        if deal_file is not None:
            return load_deal(deal_file)
        if scenario is None:
            if required:
                fail("give a deal: --deal FILE, or at least --scenario KEY")
            return None
        data: dict[str, object] = {"scenario": scenario}
        for key, value in (("customer", customer), ("region", region), ("stage", stage)):
            if value is not None:
                data[key] = value
        for key, values in (("pains", pains), ("goals", goals), ("audience", audience)):
            if values:
                data[key] = values
        return deal_from_data(data, "command line")
    except DealError as exc:
        fail(str(exc))


def _copilot(config: Path | None, provider: str | None, lang: str | None) -> Any:
    from copilot.core import Copilot
    from copilot.index.store import IndexUnavailableError
    from copilot.knowledge import KnowledgeError

    _check_choice("lang", lang, LANGUAGES)
    settings = load_settings(config)
    if provider is not None:
        allowed = Settings.model_fields["provider"].annotation.__args__  # type: ignore[union-attr]
        _check_choice("provider", provider, allowed)
        settings = settings.model_copy(update={"provider": provider})
    try:
        return Copilot.open(settings)
    except (KnowledgeError, IndexUnavailableError) as exc:
        fail(str(exc))


def _emit(result: Any, as_json: bool) -> None:
    for notice in result.notices:
        typer.secho(f"[{notice.kind}] {notice.message}", fg=typer.colors.YELLOW, err=True)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(result.text)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Any question, in Chinese or English.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A grounded answer with citations, or a clear "the knowledge base has nothing on this"."""
    if _blank(question):
        fail("the question is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, required=False)
    _emit(_copilot(config, provider, lang).ask(question, deal, lang), as_json)


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
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Turn jargon into a business-outcome story for the audience, with proof from a real case."""
    if _blank(text):
        fail("the text to explain is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _emit(_copilot(config, provider, lang).explain(deal, text, lang), as_json)


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
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A risk checklist: likelihood and impact, mitigation, owner, warning signals, evidence."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _emit(_copilot(config, provider, lang).risks(deal, lang), as_json)


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
    horizon: Annotated[int, typer.Option(help="Plan horizon in months.", min=3, max=60)] = 12,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Phased milestones with KPIs (the buyer's own numbers where given) and tasks on both sides."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _emit(_copilot(config, provider, lang).plan(deal, horizon, lang), as_json)


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
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Does this problem need a blockchain at all? A verdict, reasons, and what to offer instead."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _emit(_copilot(config, provider, lang).fit(deal, lang), as_json)


@app.command()
def objection(
    text: Annotated[str, typer.Argument(help="The objection, in the buyer's words.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """The concern behind an objection, a response with proof, and a question back."""
    if _blank(text):
        fail("the objection is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, customer, region)
    _emit(_copilot(config, provider, lang).objection(deal, text, lang), as_json)


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
    horizon: Annotated[int, typer.Option(help="Plan horizon in months.", min=3, max=60)] = 12,
    card: Annotated[bool, typer.Option("--card", help="The one-page prep card alone (md or json).")] = False,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A meeting brief: the one-page prep card, then its appendices (story, demo, objections, risks, plan…)."""
    from copilot.export import FORMATS, brief_to_json, card_to_json, card_to_markdown, export_brief

    _check_choice("format", fmt, FORMATS)
    if fmt == "docx" and out is None:
        fail("--format docx needs -o FILE")
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    result = _copilot(config, provider, lang).brief(deal, lang, horizon)
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
    config: ConfigOpt = None,
) -> None:
    """Chat with the copilot about a deal (one message per line; /exit or Ctrl-D to leave)."""
    from copilot.core import ChatTurn

    deal = _deal(deal_file, scenario, customer, region)
    copilot = _copilot(config, provider, lang)
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
        reply: list[str] = []
        for event in copilot.chat(message, history, deal):
            if event.kind == "text" and event.text:
                reply.append(event.text)
                typer.echo(event.text, nl=False)
            elif event.kind == "notice" and event.notice:
                typer.secho(f"\n[{event.notice.kind}] {event.notice.message}", fg=typer.colors.YELLOW, err=True)
        typer.echo("")
        history += [ChatTurn(role="user", content=message), ChatTurn(role="assistant", content="".join(reply))]


from nego import eval_cli as _eval_cli  # noqa: E402,F401
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
