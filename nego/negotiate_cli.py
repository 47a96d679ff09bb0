"""`nego negotiate`: the negotiation plan of a deal (registered onto nego.cli's `app`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from nego.base import (
    ConfigOpt,
    JsonOpt,
    LangOpt,
    ProviderOpt,
    VendorOpt,
    _check_choice,
    _deal,
    app,
    fail,
    load_settings,
)
from nego.output import emit


def _open(config: Path | None, provider: str | None, lang: str | None, vendor: Path | None) -> Any:
    """The copilot for this command (as the skill commands open it), or a one-line error."""
    from copilot.core import Copilot
    from copilot.index.store import IndexUnavailableError
    from copilot.knowledge import KnowledgeError
    from copilot.settings import Settings
    from copilot.vendor import VendorError
    from copilot.vocabulary import LANGUAGES

    _check_choice("lang", lang, LANGUAGES)
    settings = load_settings(config)
    if vendor is not None:
        settings = settings.model_copy(update={"vendor_file": vendor})
    if provider is not None:
        _check_choice("provider", provider, Settings.model_fields["provider"].annotation.__args__)  # type: ignore[union-attr]
        settings = settings.model_copy(update={"provider": provider})
    try:
        return Copilot.open(settings)
    except (KnowledgeError, IndexUnavailableError, VendorError) as exc:
        fail(str(exc))


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
    result = _open(config, provider, lang, vendor).negotiate(deal, lang)
    emit(result, as_json)
    if not result.has_negotiation:
        raise typer.Exit(1)
