"""What every `nego` command module shares: the typer apps, settings, the store, one-line failures.

The command modules (nego/*_cli.py: index, skills, chat, deal, eval, meeting, negotiate, ui, doctor) each
depend on this module (and nego/output.py) and never on one another; nego/cli.py, the entry point, imports
them only to register their commands (tests/test_architecture.py holds this).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from copilot.settings import ConfigFileError, Settings

app = typer.Typer(
    name="nego",
    help="Negotiation copilot for blockchain solution sales (zh/en, offline by default).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Evaluations.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
deal_app = typer.Typer(help="Deal files: how the copilot reads them.", no_args_is_help=True)
app.add_typer(deal_app, name="deal")


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


# -- options and the deal, shared by the skill commands (nego/skills_cli.py) and `nego deal` (nego/deal_cli.py) --
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
VendorOpt = Annotated[
    Path | None, typer.Option("--vendor", help="Our vendor profile (YAML; default: NEGO_HOME/vendor.yaml if present).")
]


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


def open_copilot(config: Path | None, provider: str | None, lang: str | None, vendor: Path | None = None) -> Any:
    """The copilot for a skill command (`--provider`, `--lang`, `--vendor` applied), or a one-line error."""
    from copilot.core import Copilot
    from copilot.index.store import IndexUnavailableError
    from copilot.knowledge import KnowledgeError
    from copilot.vendor import VendorError
    from copilot.vocabulary import LANGUAGES

    _check_choice("lang", lang, LANGUAGES)
    settings = load_settings(config)
    if vendor is not None:
        settings = settings.model_copy(update={"vendor_file": vendor})
    if provider is not None:
        allowed = Settings.model_fields["provider"].annotation.__args__  # type: ignore[union-attr]
        _check_choice("provider", provider, allowed)
        settings = settings.model_copy(update={"provider": provider})
    try:
        return Copilot.open(settings)
    except (KnowledgeError, IndexUnavailableError, VendorError) as exc:
        fail(str(exc))
