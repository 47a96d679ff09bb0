"""The Negotiate tab's pieces without a browser: the YAML deal, the ladder table and chart in zh and en."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.deal import DealError
from copilot.skills.negotiate_model import LadderStep, NegotiationResult, Opening
from ui.negotiate_tab import example_yaml, ladder_chart, ladder_table, parse_deal


def _plan(lang: str) -> NegotiationResult:
    opening = Opening(
        issue="fee",
        unit="EUR",
        value=100,
        target=100,
        walk_away=80,
        better="up",
        priority=3,
        role="concede",
        reason="r",
    )
    ladder = [
        LadderStep(step=0, values={"fee": 100}),
        LadderStep(step=1, values={"fee": 90}, gets=["case study"]),
        LadderStep(step=2, values={"fee": 85}, gets=["term"]),
    ]
    return NegotiationResult(language=lang, customer="X", openings=[opening], ladder=ladder)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_table_and_chart(lang: str) -> None:
    header, rows = ladder_table(_plan(lang))
    assert len(header) == 6 and rows == [["fee", "EUR", "80", "100", "90", "85"]]
    fig: Any = ladder_chart(_plan(lang))
    assert list(fig.data[0].y) == [0.0, 50.0, 75.0]  # share of the 100..80 range given at each step
    assert ("让步阶梯" if lang == "zh" else "Offer ladder") in fig.layout.title.text


def test_the_example_parses_and_bad_yaml_names_the_line() -> None:
    deal = parse_deal(example_yaml())
    assert deal.negotiation is not None and len(deal.negotiation.issues) == 4
    with pytest.raises(DealError, match="deal"):
        parse_deal("scenario: [unclosed\n")
    with pytest.raises(DealError, match="walk_away"):
        parse_deal(
            "scenario: e_invoice\nnegotiation:\n  issues:\n"
            "    - {name: fee, unit: EUR, target: 100, walk_away: 120, better: up}\n"
        )
