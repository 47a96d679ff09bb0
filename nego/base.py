"""What every `nego` command module shares: the typer apps, settings, the store, one-line failures.

The command modules (nego/cli.py, nego/eval_cli.py, nego/ui_cli.py) each depend on
this module and never on one another; nego/cli.py, the entry point, imports the
others only to register their commands (tests/test_architecture.py holds this).
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
