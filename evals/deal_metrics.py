"""Deterministic metrics of deal understanding (issue 13): does the output follow the deal's reading?

- compliance_coverage: every compliance regime the deal names has a risk item (its policy cited, or the
  honest "not in the knowledge base" item);
- industry_leakage: terms of the industry the scenario's playbook is written for (its lexicon) left in the
  output of a deal of another industry (terms the deal's own lexicon or words use are not leakage; nor are
  terms several lexicons share, nor a dated fact of a cited passage: "Walmart's leafy greens, 2018");
- chain_type_leakage: output sentences copied from corpus lines that claim another chain type;
- vendor_claims: what the output says we hold or offer ("我方…「X」", "We hold: X") must be an item of
  the vendor profile, never one of its `not_offered`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from copilot.corpus.lexicons import IndustryLexicon
from copilot.knowledge import KnowledgeBase
from copilot.reading.chains import LineMatcher, contradicting_lines
from copilot.reading.industry import FACT_DATE, playbook_industries
from copilot.reading.model import DealReading
from copilot.results import Citation, RisksResult
from copilot.text.chunking import split_sentences
from copilot.vendor import VendorProfile
from evals.models import MetricResult

_CLAIMS = [
    re.compile(r"我方(?:部署方式|已有：?)「([^」]+)」"),
    re.compile(r"我方已有：([^（\n]+)（"),
    re.compile(r"Our deployment option \"([^\"]+)\""),
    re.compile(r"We hold: ([^\n(]+?) \("),
]


def _result(name: str, score: float, problems: list[str], skill: str | None) -> MetricResult:
    score = min(1.0, max(0.0, score))
    return MetricResult(name=name, skill=skill, score=round(score, 4), passed=not problems, problems=problems)


def without_sources(text: str, citations: Sequence[Citation]) -> str:
    """The output without its sources list and cited titles (a passage's title is not our wording)."""
    text = re.split(r"\n#{2,4} (?:来源|Sources)\n", text)[0]
    for c in citations:
        text = text.replace(c.title, " ")
    return text


def compliance_coverage(reading: DealReading, risks: RisksResult, skill: str | None = None) -> MetricResult:
    named = reading.of_kind("compliance")
    ids = {i.risk_id for i in risks.items}
    unknown_item = any(i.startswith("regime-unknown-") for i in ids)
    missing = [
        c.text
        for c in named
        if (f"regime-{c.regime}".replace("_", "-") not in ids if c.regime is not None else not unknown_item)
    ]
    problems = [f"no risk item for the compliance requirement {t!r}" for t in missing]
    return _result("compliance_coverage", 1 - len(missing) / len(named) if named else 1.0, problems, skill)


def leaking_terms(text: str, reading: DealReading, lexicons: Sequence[IndustryLexicon], lang: str) -> list[str]:
    """Terms of the industry the scenario's playbook is written for, left in the output of a deal of another
    industry (terms the deal's own lexicon or words use, and terms several lexicons share, are not leakage)."""
    home_key = playbook_industries().get(reading.deal.scenario)
    home = next((lex for lex in lexicons if lex.key == home_key), None)
    if home is None or reading.industry is None or reading.industry.key == home.key:
        return []
    own = next((lex for lex in lexicons if lex.key == reading.industry.key), None)
    allowed = set(own.terms(lang)) if own else set()
    shared = Counter(t for lex in lexicons for t in set(lex.terms(lang)))
    deal_text = reading.deal.text().lower()
    for term in sorted(allowed, key=len, reverse=True):  # "生鲜乳运输" is dairy wording, not "运输"
        text = text.replace(term, " ")
    text = "\n".join(s for s in split_sentences(text) if not FACT_DATE.search(s))  # dated facts of cited passages
    found = []
    for term in home.terms(lang):
        if term in allowed or shared[term] > 1 or term.lower() in deal_text:
            continue
        if re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", text, re.IGNORECASE):
            found.append(term)
    return sorted(set(found))


def industry_leakage(
    text: str, reading: DealReading, lexicons: Sequence[IndustryLexicon], lang: str, skill: str | None = None
) -> MetricResult:
    """0 terms of another industry in the output of a deal whose industry matched a lexicon."""
    if reading.industry is None:
        return _result("industry_leakage", 1.0, [], skill)
    leaked = leaking_terms(text, reading, lexicons, lang)
    problems = [f"{t!r} belongs to another industry's lexicon" for t in leaked]
    return _result("industry_leakage", 0.0 if leaked else 1.0, problems, skill)


def chain_type_leakage(
    text: str, kb: KnowledgeBase, chain_type: str, lang: str, skill: str | None = None
) -> MetricResult:
    matcher = LineMatcher(contradicting_lines(kb.glossary, kb.playbooks.values(), chain_type, lang))
    copied = matcher.count(text)
    problems = [f"claims another chain type than {chain_type}: {s[:80]!r}" for s in copied]
    return _result("chain_type_leakage", 0.0 if copied else 1.0, problems, skill)


def claimed_items(text: str) -> list[str]:
    return [m.group(1).strip() for pattern in _CLAIMS for m in pattern.finditer(text)]


def vendor_claims(text: str, vendor: VendorProfile | None, skill: str | None = None) -> MetricResult:
    """Everything the output says we hold or offer is listed in the profile (and not as not offered)."""
    listed: Iterable[str] = []
    if vendor is not None:
        listed = [*vendor.deployment, *vendor.certifications, *vendor.capabilities, *vendor.integrations]
    listed_set = {x.strip() for x in listed}
    not_offered = {x.strip() for x in vendor.not_offered} if vendor is not None else set()
    claims = claimed_items(text)
    bad = [c for c in claims if c not in listed_set or c in not_offered]
    problems = [f"claims {c!r}, which the vendor profile does not list" for c in bad]
    return _result("vendor_claims", 1 - len(bad) / len(claims) if claims else 1.0, problems, skill)
