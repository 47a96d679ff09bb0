"""The skill commands (`nego ask | explain | risks | plan | fit | objection | brief`): one skill's result for a deal,
printed or streamed (registered onto nego.base's `app`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from nego.base import (
    AudienceOpt,
    ConfigOpt,
    CustomerOpt,
    DealOpt,
    GoalOpt,
    JsonOpt,
    LangOpt,
    PainOpt,
    ProviderOpt,
    RegionOpt,
    ScenarioOpt,
    StageOpt,
    VendorOpt,
    _check_choice,
    _deal,
    app,
    fail,
    open_copilot,
)
from nego.output import emit, stream_result

ChoicesOpt = Annotated[
    bool, typer.Option("--explain-choices", help="Show each sentence's relevance to the deal and why (stderr).")
]
HorizonOpt = Annotated[
    int | None, typer.Option(help="Plan horizon in months (default: the deal's timeline, else 12).", min=3, max=60)
]


def _show(copilot: Any, call: Callable[[Any], Any], as_json: bool, deal: Any = None, choices: bool = False) -> None:
    """Print one skill's result; in LLM mode (not --json) the model's draft streams as it is written.

    `choices` (--explain-choices): then each candidate sentence's relevance to the deal, with its reasons.
    """
    if as_json or copilot.mode == "offline" or choices:
        result = call(copilot)
        emit(result, as_json)
        _choices(copilot, result, deal, choices)
    else:
        stream_result(copilot, lambda: call(copilot))


def _choices(copilot: Any, result: Any, deal: Any, show: bool) -> None:
    """`--explain-choices`: each candidate sentence with its relevance score and reasons, on stderr."""
    if not show or deal is None:
        return
    for choice in sorted(copilot.choices(result, deal), key=lambda c: -c.score):
        text = " ".join(choice.text.split())[:100]
        typer.echo(f"[{choice.score:.0f}] {choice.kind}: {text} <- {'; '.join(choice.reasons)}", err=True)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Any question, in Chinese or English.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A grounded answer with citations, or a clear "the knowledge base has nothing on this"."""
    if _blank(question):
        fail("the question is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, required=False)
    _show(open_copilot(config, provider, lang, vendor), lambda c: c.ask(question, deal, lang), as_json)


@app.command()
def explain(
    text: Annotated[str, typer.Argument(help="Technical text or a list of terms to turn into a business story.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Turn jargon into a business-outcome story for the audience, with proof from a real case."""
    if _blank(text):
        fail("the text to explain is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(
        open_copilot(config, provider, lang, vendor),
        lambda c: c.explain(deal, text, lang),
        as_json,
        deal,
        explain_choices,
    )


@app.command()
def risks(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A risk checklist: likelihood and impact, mitigation, owner, warning signals, evidence."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(open_copilot(config, provider, lang, vendor), lambda c: c.risks(deal, lang), as_json, deal, explain_choices)


@app.command()
def plan(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    horizon: HorizonOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Phased milestones with KPIs (the buyer's own numbers where given) and tasks on both sides."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(
        open_copilot(config, provider, lang, vendor),
        lambda c: c.plan(deal, horizon, lang),
        as_json,
        deal,
        explain_choices,
    )


@app.command()
def fit(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Does this problem need a blockchain at all? A verdict, reasons, and what to offer instead."""
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    _show(open_copilot(config, provider, lang, vendor), lambda c: c.fit(deal, lang), as_json, deal, explain_choices)


@app.command()
def objection(
    text: Annotated[str, typer.Argument(help="The objection, in the buyer's words.")],
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """The concern behind an objection, a response with proof, and a question back."""
    if _blank(text):
        fail("the objection is empty (or only blanks and invisible characters)")
    deal = _deal(deal_file, scenario, customer, region)
    _show(
        open_copilot(config, provider, lang, vendor),
        lambda c: c.objection(deal, text, lang),
        as_json,
        deal,
        explain_choices,
    )


@app.command()
def brief(
    deal_file: DealOpt = None,
    scenario: ScenarioOpt = None,
    customer: CustomerOpt = None,
    region: RegionOpt = None,
    pain: PainOpt = None,
    goal: GoalOpt = None,
    audience: AudienceOpt = None,
    stage: StageOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="md, docx or json.")] = "md",
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write to this file (required for docx).")] = None,
    horizon: HorizonOpt = None,
    card: Annotated[bool, typer.Option("--card", help="The one-page prep card alone (md or json).")] = False,
    lang: LangOpt = None,
    provider: ProviderOpt = None,
    vendor: VendorOpt = None,
    as_json: JsonOpt = False,
    explain_choices: ChoicesOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A meeting brief: the one-page prep card, then its appendices (story, demo, objections, risks, plan…)."""
    from copilot.export import FORMATS, brief_to_json, card_to_json, card_to_markdown, export_brief

    _check_choice("format", fmt, FORMATS)
    if fmt == "docx" and out is None:
        fail("--format docx needs -o FILE")
    deal = _deal(deal_file, scenario, customer, region, pain, goal, audience, stage)
    copilot = open_copilot(config, provider, lang, vendor)
    result = copilot.brief(deal, lang, horizon)
    _choices(copilot, result, deal, explain_choices)
    for notice in result.notices:
        typer.secho(f"[{notice.kind}] {notice.message}", fg=typer.colors.YELLOW, err=True)
    if out is not None:
        try:
            export_brief(result, fmt, out, card_only=card)  # type: ignore[arg-type]
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror}")
        typer.echo(f"wrote {out}")
    elif card:
        typer.echo(card_to_json(result) if as_json or fmt == "json" else card_to_markdown(result))
    elif as_json or fmt == "json":
        typer.echo(brief_to_json(result))
    else:
        typer.echo(result.text)


def _blank(text: str) -> bool:
    from copilot.text.limits import is_blank

    return is_blank(text)
