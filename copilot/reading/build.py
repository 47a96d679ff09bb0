"""Build the DealReading once per request, at the entry (copilot.core), from the deal and the vendor profile.

- Constraints: a kind the rep declared is kept; a free-text sentence is classified by the one
  classifier (copilot.understand, examples in evals/datasets/understanding/constraints.jsonl); below
  its confidence it stays `other`, still shown. Then each is read for its values: a budget's amount
  and currency, a timeline's months or date (copilot.reading.extract), a compliance sentence's
  regime (the longest regime name of corpus/regimes.yaml it contains, in a clause that is not
  negated when there is one), a residency sentence's boundary (the boundary of its nearest
  labelled residency example).
- Negated regimes ("no GDPR exposure", "不涉及跨境数据", "we are not subject to DORA"): the labelled
  examples (constraints.negated.jsonl) teach the classifier that such a sentence is no requirement
  (`other`); a regime it names only in negated clauses (copilot.understand's clause-level negation)
  is kept as `excluded_regime`, shown to the rep and given no risk item. A compliance item declared
  as such is classified too, so "compliance: [no GDPR exposure]" is read the same way.
- Industry: the deal's `industry` (else the customer's name) matched to a lexicon of
  corpus/industries by the longest name it contains, or none.
- Chain type: the deal's, else the scenario's (data/chain_types.yaml).
- Vendor gaps: copilot.reading.gaps.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Protocol, cast

import yaml

from copilot.corpus.lexicons import IndustryLexicon, Regime
from copilot.deal import ChainType, ConstraintKind, Deal
from copilot.reading.extract import find_amount, find_date, find_months
from copilot.reading.gaps import vendor_gaps
from copilot.reading.industry import industry_wording
from copilot.reading.model import DealReading, IndustryMatch, Money, ParsedConstraint
from copilot.understand.classifier import Classification
from copilot.understand.examples import example_files, examples_path, load_examples
from copilot.understand.hub import Understanding
from copilot.understand.negation import rules
from copilot.vendor import VendorProfile


class KnowledgeBase(Protocol):
    """What reading a deal needs of the knowledge base (copilot.knowledge.KnowledgeBase has it; so does
    the light one `nego deal check` builds without an index)."""

    @property
    def understanding(self) -> Understanding: ...

    regimes: list[Regime]
    industries: list[IndustryLexicon]


DATA = Path(__file__).resolve().parent / "data"
CHAIN_TYPES = DATA / "chain_types.yaml"
BOUNDARIES = DATA / "boundaries.yaml"
CONSTRAINTS_SET = "constraints"


@cache
def scenario_chain_types() -> dict[str, str]:
    return dict(yaml.safe_load(CHAIN_TYPES.read_text(encoding="utf-8")))


@cache
def _excluding_ids() -> frozenset[str]:
    """Ids of the labelled constraint examples that state a regime does not apply (`excludes`)."""
    return frozenset(e.id for f in example_files(CONSTRAINTS_SET) for e in load_examples(f) if e.extra.get("excludes"))


@cache
def boundaries() -> dict[str, dict[str, object]]:
    return dict(yaml.safe_load(BOUNDARIES.read_text(encoding="utf-8")))


def boundary_label(key: str, lang: str) -> str:
    label = boundaries().get(key, {}).get("label")
    return str(label.get(lang, key)) if isinstance(label, dict) else key


def name_in(name: str, text: str) -> bool:
    """`name` occurs in `text`: case-insensitive, whole words for Latin names ("DORA" is not in "Dorado")."""
    if not name:
        return False
    pattern = _name_pattern(name)
    return pattern.search(text) is not None if pattern is not None else name in text


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str] | None:
    """The whole-word pattern of a Latin name, compiled once (a brief tests hundreds of names: re's own
    cache of 512 patterns overflowed, ~60 ms a brief recompiling); None for a name without Latin letters."""
    if not re.search(r"[A-Za-z0-9]", name):
        return None
    left = r"(?<![A-Za-z0-9])" if name[0].isalnum() else ""
    right = r"(?![A-Za-z0-9])" if name[-1].isalnum() else ""
    return re.compile(left + re.escape(name) + right, re.IGNORECASE)


def longest_name(names: list[str], text: str) -> str | None:
    found = [n for n in names if name_in(n, text)]
    return max(found, key=len) if found else None


def match_regime(text: str, regimes: list[Regime]) -> Regime | None:
    """The regime whose longest name `text` contains (ties: the first listed)."""
    best: tuple[int, Regime] | None = None
    for regime in regimes:
        found = longest_name(regime.names.all(), text)
        if found and (best is None or len(found) > best[0]):
            best = (len(found), regime)
    return best[1] if best else None


def regime_by_polarity(text: str, regimes: list[Regime]) -> tuple[Regime | None, Regime | None]:
    """(the regime named in a clause that is not negated, the regime named only in negated clauses)."""
    clauses = rules().clauses(text)
    stated = match_regime(" | ".join(c.text for c in clauses if not c.negated), regimes)
    denied = match_regime(" | ".join(c.text for c in clauses if c.negated), regimes)
    return stated, denied if denied is not None and (stated is None or denied.key != stated.key) else None


def match_industry(deal: Deal, lexicons: list[IndustryLexicon]) -> IndustryMatch | None:
    """The lexicon whose longest name the deal's industry (else its customer name) contains, or None."""
    for text in (deal.industry, deal.customer):
        if not text:
            continue
        best: tuple[int, IndustryLexicon, str] | None = None
        for lexicon in lexicons:
            found = longest_name(lexicon.names.all(), text)
            if found and (best is None or len(found) > best[0]):
                best = (len(found), lexicon, found)
        if best is not None:
            lexicon = best[1]
            return IndustryMatch(key=lexicon.key, label=lexicon.label(deal.lang), matched=best[2])
    return None


def _boundary(got: Classification, kb: KnowledgeBase) -> str | None:
    """The boundary of the nearest labelled residency example (its `boundary` field)."""
    examples = {e.id: e for e in kb.understanding.classifier(CONSTRAINTS_SET).examples}
    for neighbour in got.neighbours:
        example = examples.get(neighbour.id)
        if example is not None and example.label == "data_residency" and example.extra.get("boundary"):
            return str(example.extra["boundary"])
    return None


def _values(pc: ParsedConstraint, deal: Deal, regimes: list[Regime]) -> ParsedConstraint:
    update: dict[str, object] = {}
    if pc.kind == "budget":
        amount = find_amount(pc.text, deal.lang, deal.region)
        if amount is not None:
            update["money"] = Money(amount=amount.value, currency=amount.currency, text=amount.text)
    elif pc.kind == "timeline":
        update["months"] = find_months(pc.text)
        update["date"] = find_date(pc.text)
    elif pc.kind == "compliance":  # "不得低于等保三级" is a requirement: a negated name still counts
        stated, denied = regime_by_polarity(pc.text, regimes)
        regime = stated or denied
        update["regime"] = regime.key if regime else None
    return pc.model_copy(update=update) if update else pc


def _denies(got: Classification, text: str, regimes: list[Regime]) -> bool:
    """A compliance item the rep declared says a regime does NOT apply: the classifier reads no requirement
    and the regime is named only in negated clauses ("compliance: [no GDPR exposure]")."""
    if got.unsure or got.label != "other" or not got.negated or not _nearest_excludes(got):
        return False
    stated, denied = regime_by_polarity(text, regimes)
    return stated is None and denied is not None


def _nearest_excludes(got: Classification) -> bool:
    """The nearest labelled example is itself a regime stated as not applying (its `excludes` field)."""
    return bool(got.neighbours) and got.neighbours[0].id in _excluding_ids()


def parse_constraints(deal: Deal, kb: KnowledgeBase | None) -> list[ParsedConstraint]:
    """Declared constraints keep their kind; free-text sentences are classified (copilot.understand)."""
    parsed: list[ParsedConstraint] = []
    can_classify = kb is not None and examples_path(CONSTRAINTS_SET).is_file()
    regimes = kb.regimes if kb is not None else []
    for text, kind in deal.constraints.declared():
        got: Classification | None = None
        if can_classify and kb is not None and kind in (None, "data_residency", "compliance"):
            got = kb.understanding.classify(CONSTRAINTS_SET, text)
        if kind == "compliance" and got is not None and _denies(got, text, regimes):
            pc = ParsedConstraint(
                text=text, kind="other", source="classified", confidence=got.confidence, reason=got.reason()
            )
        elif kind is not None:
            pc = ParsedConstraint(text=text, kind=kind, source="declared")
        elif got is not None:
            label = "other" if got.unsure else got.label
            pc = ParsedConstraint(
                text=text,
                kind=cast("ConstraintKind", label),
                source="classified",
                confidence=got.confidence,
                reason=got.reason(),
            )
        else:
            pc = ParsedConstraint(text=text, kind="other", source="classified", confidence=0.0)
        if pc.kind == "other" and got is not None and _denies(got, text, regimes):
            pc = pc.model_copy(update={"excluded_regime": regime_by_polarity(text, regimes)[1].key})  # type: ignore[union-attr]
        if pc.kind == "data_residency" and got is not None and kb is not None:
            pc = pc.model_copy(update={"boundary": _boundary(got, kb)})
        parsed.append(_values(pc, deal, regimes))
    return parsed


def read_deal(deal: Deal, kb: KnowledgeBase | None = None, vendor: VendorProfile | None = None) -> DealReading:
    chain: ChainType = deal.chain_type or cast("ChainType", scenario_chain_types()[deal.scenario])
    constraints = parse_constraints(deal, kb)
    regimes = {r.key: r for r in kb.regimes} if kb is not None else {}
    industry = match_industry(deal, kb.industries) if kb is not None else None
    swaps: dict[str, dict[str, str]] = {}
    drops: dict[str, list[str]] = {}
    if kb is not None:
        lexicon = next((lex for lex in kb.industries if industry and lex.key == industry.key), None)
        named = deal.industry or (industry.matched if industry else None)
        swaps, drops = industry_wording(deal.scenario, named, lexicon, kb.industries, kb.understanding.encode)
    return DealReading(
        deal=deal,
        constraints=constraints,
        industry=industry,
        industry_swaps=swaps,
        industry_drops=drops,
        chain_type=chain,
        chain_type_source="deal" if deal.chain_type else "scenario",
        vendor=vendor,
        vendor_gaps=vendor_gaps(deal, constraints, vendor, regimes, kb.understanding.encode if kb else None)
        if vendor is not None
        else [],
    )
