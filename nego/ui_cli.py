"""`nego ui`: serve the Gradio app (registered onto the CLI's Typer app by nego/cli.py).

On a fresh machine the index is empty: the corpus is indexed first, so the
README's first command ends in a working app. gradio is imported only here,
inside the command, so the rest of the CLI stays fast.
"""

from __future__ import annotations

import os
import threading
from typing import Annotated, Any

import typer

from nego.base import ConfigOpt, app, fail, load_settings, open_store


@app.command()
def ui(
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but 127.0.0.1 should have a login.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.", min=1, max=65535)] = 7860,
    auth: Annotated[
        str | None,
        typer.Option(
            "--auth",
            envvar="NEGO_AUTH",
            show_envvar=True,
            help="Login: user:password, or a file with one user:password per line.",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the copilot's web app (chat, meeting briefs, knowledge base, evals, settings)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from copilot.history import HistoryError
    from copilot.index.indexer import index_corpus
    from copilot.index.store import IndexUnavailableError
    from copilot.knowledge import KnowledgeError
    from ui.auth import AuthError, binding_warning, parse_auth, users_file_warning

    users = None
    if auth is not None:
        try:
            users = parse_auth(auth)
        except (AuthError, OSError) as exc:
            fail(str(exc))
        warning = users_file_warning(auth)
        if warning:
            typer.secho(warning, fg=typer.colors.YELLOW, err=True)
    warning = binding_warning(host, users is not None)
    if warning:
        typer.secho(warning, fg=typer.colors.YELLOW, err=True)

    settings = load_settings(config)
    store = open_store(settings)
    if store.count() == 0:
        typer.echo(f"the index is empty: indexing {settings.corpus_path} first (once)", err=True)

        def progress(done: int, total: int) -> None:
            typer.echo(f"indexing: {done}/{total} documents", err=True)

        report = index_corpus(settings, store, progress=progress)
        for problem in report.problems:
            typer.echo(problem, err=True)
        typer.echo(report.summary(), err=True)

    from ui.app import launch
    from ui.context import AppContext

    try:
        ctx = AppContext.open(settings, store)
    except (KnowledgeError, IndexUnavailableError, HistoryError) as exc:
        fail(str(exc))
    # The first reply would otherwise load the encoder, jieba and tiktoken itself (seconds): do it while
    # the server starts. A request arriving meanwhile simply loads what it needs.
    # Then the rehearsal (copilot.rehearsal): each scenario's own material embedded before the first brief.
    threading.Thread(target=_warm_up, args=(ctx.copilot,), name="warm-up", daemon=True).start()
    try:
        launch(ctx, host, port, users)
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc}")
    finally:
        ctx.close()


def _warm_up(copilot: Any) -> None:
    """Models, dictionaries and tokenizers, then each scenario's material (copilot.rehearsal)."""
    from copilot.rehearsal import rehearse

    copilot.warm_up()
    rehearse(copilot)
