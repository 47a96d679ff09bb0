"""`nego chat`: a conversation with the copilot about a deal, one message a line (registered onto nego.base's `app`)."""

from __future__ import annotations

import sys

import typer

from nego.base import (
    ConfigOpt,
    CustomerOpt,
    DealOpt,
    LangOpt,
    ProviderOpt,
    RegionOpt,
    ScenarioOpt,
    VendorOpt,
    _deal,
    app,
    open_copilot,
)
from nego.output import finish, print_notices, show_event


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
