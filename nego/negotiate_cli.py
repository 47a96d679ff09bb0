"""`nego negotiate`: the negotiation plan of a deal (registered onto nego.base's `app`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nego.base import (
    ConfigOpt,
    JsonOpt,
    LangOpt,
    ProviderOpt,
    VendorOpt,
    _deal,
    app,
    open_copilot,
)
from nego.output import emit


@app.command()
def negotiate(
    deal_file: Annotated[Path, typer.Option("--deal", help="Deal file (YAML or JSON) with a `negotiation` section.")],
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    as_json: JsonOpt = False,
    vendor: VendorOpt = None,
    config: ConfigOpt = None,
) -> None:
    """A negotiation plan: opening, offer ladder (give/get), walk-away lines, trades, shared-risk options.

    The numbers come from rules over the deal's `negotiation` section; a model only narrates them.
    Exits 1 (with what to add, and an example) when the deal has no negotiation section.
    """
    deal = _deal(deal_file, None)
    result = open_copilot(config, provider, lang, vendor).negotiate(deal, lang)
    emit(result, as_json)
    if not result.has_negotiation:
        raise typer.Exit(1)
