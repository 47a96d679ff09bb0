"""`nego deal check FILE`: the deal as the copilot reads it (registered onto nego.base's `deal_app`).

Shows each constraint's kind (declared or classified, with the confidence), the values read from it
(amount and currency, months or date, regime, boundary), the matched industry, the chain type and,
with a vendor profile, the vendor gaps, so the rep can correct a wrong reading in the deal file.
It needs no index: only the corpus's regimes and lexicons and the offline classifier.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from copilot.vocabulary import LANGUAGES
from nego.base import ConfigOpt, LangOpt, VendorOpt, _check_choice, _deal, deal_app, fail, load_settings


@deal_app.command("check")
def check(
    deal_file: Annotated[Path, typer.Argument(help="Deal file (YAML or JSON).")],
    vendor: VendorOpt = None,
    lang: LangOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reading as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Show how the copilot reads a deal: constraints, industry, chain type, vendor gaps."""
    _check_choice("lang", lang, LANGUAGES)
    deal = _deal(deal_file, None)
    settings = load_settings(config)
    from copilot.reading.build import read_deal
    from copilot.reading.render import render_reading
    from copilot.reading.sources import ReadingSources
    from copilot.vendor import VendorError, load_vendor

    path = vendor or settings.vendor_path
    try:
        profile = load_vendor(path) if path is not None else None
    except VendorError as exc:
        fail(str(exc))
    sources = ReadingSources(settings)
    reading = read_deal(deal, sources, profile)
    if as_json:
        data = reading.model_dump(mode="json", exclude={"deal", "vendor"})
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(render_reading(reading, {r.key: r for r in sources.regimes}, lang), nl=False)
