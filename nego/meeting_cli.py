"""`nego roleplay`, `nego recap` and `nego deal versions|show|restore`: the meeting loop (issue 15 parts 2-3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from nego.base import (
    ConfigOpt,
    DealOpt,
    JsonOpt,
    LangOpt,
    ProviderOpt,
    _deal,
    app,
    deal_app,
    fail,
    load_settings,
    open_copilot,
)
from nego.output import emit, print_notices

MAX_SCRIPT_BYTES = 200_000


def _meeting_deal(deal_file: Path | None) -> Any:
    """The deal a meeting command works on (a deal file is required), or a one-line error."""
    if deal_file is None:
        fail("give a deal: --deal FILE")
    return _deal(deal_file, None)


def read_lines(path: Path, what: str) -> list[str]:
    """The non-blank lines of a text file (lines starting with # are comments), or a one-line error."""
    if not path.is_file():
        fail(f"{what} {path}: file not found")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        fail(f"{what} {path}: cannot read: {exc.strerror}")
    if len(raw) > MAX_SCRIPT_BYTES:
        fail(f"{what} {path}: too large ({len(raw):,} bytes, limit {MAX_SCRIPT_BYTES:,})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        fail(f"{what} {path}:{line}: not valid UTF-8: save it as UTF-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@app.command()
def roleplay(
    persona: Annotated[str, typer.Option("--persona", help="cfo, skeptical_cio, procurement, legal_compliance…")],
    deal_file: DealOpt = None,
    script: Annotated[Path | None, typer.Option("--script", help="The rep's lines, one per line.")] = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Practise a meeting: the buyer (a persona) raises objections, you answer; a scorecard at the end."""
    from copilot.practice.persona import PersonaError
    from copilot.practice.session import render_scorecard

    deal = _meeting_deal(deal_file)
    lines = read_lines(script, "--script") if script is not None else None
    copilot = open_copilot(config, provider, lang)
    try:
        session = copilot.roleplay_session(deal, persona, lang)
    except PersonaError as exc:
        fail(str(exc))
    if lines is not None:
        emit(session.run_script(lines), as_json)
        return
    buyer = session.open()
    typer.echo(session.words("render.buyer", persona=session.persona.title(session.lang), text=buyer.text))
    interactive = sys.stdin.isatty()
    while not session.finished:
        if interactive:
            typer.echo(session.words("render.prompt") + " ", nl=False)
        line = sys.stdin.readline()
        if not line or line.strip() in {"/exit", "/quit", "/end"}:
            break
        if not line.strip():
            continue
        buyer = session.reply(line)
        typer.echo(session.words("render.buyer", persona=session.persona.title(session.lang), text=buyer.text))
    result = session.result()
    print_notices(result.notices)
    typer.echo(result.model_dump_json(indent=2) if as_json else "\n" + render_scorecard(result))


MAX_NOTES_BYTES = 2_000_000


def _notes(path: Path) -> str:
    if not path.is_file():
        fail(f"--notes {path}: file not found")
    raw = path.read_bytes()
    if len(raw) > MAX_NOTES_BYTES:
        fail(f"--notes {path}: too large ({len(raw):,} bytes, limit {MAX_NOTES_BYTES:,})")
    if b"\0" in raw:
        fail(f"--notes {path}: contains NUL bytes: a binary file, not notes (export the minutes as text)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        fail(f"--notes {path}:{line}: not valid UTF-8: save it as UTF-8")


@app.command()
def recap(
    notes: Annotated[Path, typer.Option("--notes", help="Meeting notes or exported minutes (text, Markdown).")],
    deal_file: DealOpt = None,
    write: Annotated[bool, typer.Option("--write", help="Save the updated deal as a new version.")] = False,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """After the meeting: decisions, changes, objections, commitments, open questions, deal diff, follow-up email."""
    deal = _meeting_deal(deal_file)
    text = _notes(notes)
    copilot = open_copilot(config, provider, lang)
    result = copilot.recap(deal, text, lang)
    from copilot.recap.versions import DealVersions

    if write:
        versions = DealVersions(copilot.settings.home_dir)
        if not versions.list(deal.who()):
            versions.save(deal.who(), deal.model_dump(mode="json", exclude_none=True), "original", "")
        saved = versions.save(deal.who(), result.updated_deal, f"recap {notes.name}", text)
        result = result.model_copy(update={"saved_version": saved.version})
    emit(result, as_json)
    if write and not as_json:
        from copilot.wording import Wording

        path = DealVersions(copilot.settings.home_dir).folder(deal.who())
        typer.echo(Wording("recap", deal.lang)("render.saved", version=result.saved_version, path=path))


CustomerOpt = Annotated[str | None, typer.Option("--customer", help="The deal's customer (or give --deal).")]


def _customer(deal_file: Path | None, customer: str | None) -> str:
    if customer:
        return customer
    if deal_file is None:
        fail("give --deal FILE or --customer NAME")
    return str(_deal(deal_file, None).who())


def _words(deal_file: Path | None) -> Any:
    """The recap wording in the deal's language (English when only --customer is given)."""
    from copilot.wording import Wording

    return Wording("recap", _deal(deal_file, None).lang if deal_file is not None else "en")


def _versions(config: Path | None) -> Any:
    from copilot.recap.versions import DealVersions

    return DealVersions(load_settings(config).home_dir)


@deal_app.command("versions")
def deal_versions(
    deal_file: DealOpt = None, customer: CustomerOpt = None, as_json: JsonOpt = False, config: ConfigOpt = None
) -> None:
    """List the saved versions of a deal (newest last)."""
    name = _customer(deal_file, customer)
    rows = _versions(config).list(name)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json", exclude={"note", "deal"}) for r in rows], ensure_ascii=False))
        return
    if not rows:
        fail(f"no saved versions for {name!r}: run `nego recap --write` first", code=1)
    for r in rows:
        typer.echo(_words(deal_file)("versions.row", version=r.version, created=r.created, source=r.source))


@deal_app.command("show")
def deal_show(
    version: Annotated[int | None, typer.Argument(help="Version number (default: the newest).")] = None,
    deal_file: DealOpt = None,
    customer: CustomerOpt = None,
    note: Annotated[bool, typer.Option("--note", help="Also print the note it came from.")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Print one saved version of a deal as YAML (with --note, the meeting note it came from)."""
    from copilot.recap.versions import VersionError

    try:
        record = _versions(config).get(_customer(deal_file, customer), version)
    except VersionError as exc:
        fail(str(exc), code=1)
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
        return
    typer.echo(yaml.safe_dump(record.deal, allow_unicode=True, sort_keys=False).rstrip())
    if note and record.note:
        typer.echo("---\n" + record.note.rstrip())


@deal_app.command("restore")
def deal_restore(
    version: Annotated[int, typer.Argument(help="The version to restore.")],
    deal_file: DealOpt = None,
    customer: CustomerOpt = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Also write the restored deal to this file.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Make an old version the newest again (saved as a new version; nothing is deleted)."""
    from copilot.export import write_atomic
    from copilot.recap.versions import VersionError

    try:
        record = _versions(config).restore(_customer(deal_file, customer), version)
    except VersionError as exc:
        fail(str(exc), code=1)
    if out is not None:
        text = yaml.safe_dump(record.deal, allow_unicode=True, sort_keys=False)

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        write_atomic(out, write)
    typer.echo(_words(deal_file)("versions.restored", from_version=version, version=record.version))
    if out is not None:
        typer.echo(str(out))
