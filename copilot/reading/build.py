"""Build the DealReading once per request, at the entry (copilot.core), from the deal and the vendor profile."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import yaml

from copilot.deal import ChainType, ConstraintKind, Deal
from copilot.reading.model import DealReading, ParsedConstraint
from copilot.understand.examples import examples_path
from copilot.vendor import VendorProfile

if TYPE_CHECKING:
    from copilot.knowledge import KnowledgeBase

CHAIN_TYPES = Path(__file__).resolve().parent / "data" / "chain_types.yaml"
CONSTRAINTS_SET = "constraints"


@cache
def scenario_chain_types() -> dict[str, str]:
    return dict(yaml.safe_load(CHAIN_TYPES.read_text(encoding="utf-8")))


def parse_constraints(deal: Deal, kb: KnowledgeBase | None) -> list[ParsedConstraint]:
    """Declared constraints keep their kind; free-text sentences are classified (copilot.understand)."""
    parsed: list[ParsedConstraint] = []
    can_classify = kb is not None and examples_path(CONSTRAINTS_SET).is_file()
    for text, kind in deal.constraints.declared():
        if kind is not None:
            parsed.append(ParsedConstraint(text=text, kind=kind, source="declared"))
        elif can_classify and kb is not None:
            got = kb.understanding.classify(CONSTRAINTS_SET, text)
            label = "other" if got.unsure else got.label
            parsed.append(
                ParsedConstraint(
                    text=text,
                    kind=cast("ConstraintKind", label),
                    source="classified",
                    confidence=got.confidence,
                    reason=got.reason(),
                )
            )
        else:
            parsed.append(ParsedConstraint(text=text, kind="other", source="classified", confidence=0.0))
    return parsed


def read_deal(deal: Deal, kb: KnowledgeBase | None = None, vendor: VendorProfile | None = None) -> DealReading:
    chain: ChainType = deal.chain_type or cast("ChainType", scenario_chain_types()[deal.scenario])
    return DealReading(
        deal=deal,
        constraints=parse_constraints(deal, kb),
        chain_type=chain,
        chain_type_source="deal" if deal.chain_type else "scenario",
        vendor=vendor,
    )
