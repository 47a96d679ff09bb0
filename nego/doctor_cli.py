"""`nego doctor`: settings, corpus, index, offline tokenizers and the model endpoint checked, one line each
(registered onto nego.base's `app`)."""

from __future__ import annotations

import typer

from nego.base import (
    ConfigOpt,
    app,
    load_settings,
)


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
