"""How a command prints a skill's result: at once, or streamed as the model writes it (LLM mode).

Streamed, the model's draft goes to stdout token by token. When it is finished and
checked: an accepted draft is followed by its sources; a draft that failed its checks
(or was cut) gets a correction notice on stderr and the answer that replaces it on stdout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer


def print_notices(notices: Iterable[Any], newline_first: bool = False) -> None:
    for notice in notices:
        typer.secho(
            f"{chr(10) if newline_first else ''}[{notice.kind}] {notice.message}", fg=typer.colors.YELLOW, err=True
        )
        newline_first = False


def emit(result: Any, as_json: bool) -> None:
    print_notices(result.notices)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(result.text)


def stream_result(copilot: Any, call: Callable[[], Any]) -> Any:
    """Run one skill call, print its reply as it comes (see the module's docs), and return the result."""
    got: list[Any] = []
    shown = ""
    for event in copilot.stream(call, got.append):
        if got:
            break  # the last event: the checked answer, printed by `finish`
        shown = show_event(event, shown)
    finish(got[0], shown)
    return got[0]


def show_event(event: Any, shown: str) -> str:
    """Print a "text" event, or a "replace" event of a retried stream; the text shown so far."""
    if event.kind == "text" and event.text:
        piece: str = event.text
        typer.echo(piece, nl=False)
        return shown + piece
    if event.kind == "replace" and event.result is None:
        text: str = event.text or ""
        typer.echo("")
        typer.echo(text, nl=False)
        return text
    return shown


def finish(result: Any, shown: str) -> None:
    """After the streamed draft (`shown`): its sources when it is the answer, else the notice and the answer."""
    from copilot.llm.runner import is_correction
    from copilot.skills.passages import sources_section

    if not shown:
        print_notices(result.notices)
        typer.echo(result.text)
        return
    typer.echo("")
    if result.mode != "llm" or any(is_correction(n) for n in result.notices):
        print_notices(result.notices)
        typer.echo(result.text)
        return
    sources = sources_section(result.citations, result.language)
    if sources:
        typer.echo("\n" + sources)
    print_notices(result.notices)
