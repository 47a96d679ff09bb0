"""Risk checklist for a deal, composed offline from the risk library.

Selection:
- a risk entry is *eligible* when its regions fit the deal's region (the region
  itself or "global"; for regions without their own law texts in the corpus,
  Chinese and EU entries too);
- an eligible entry is *relevant* when the deal's scenario is among its
  scenarios or `rises_in`, or when retrieval over the risk library with the
  deal's pains, goals, systems and constraints finds it; relevance =
  3 (scenario in rises_in) + 2 (scenario in scenarios) + up to 2 by search rank
  + 1 (entry written for the deal's region) - 2 (none of its evidence is of the
  deal's region);
- the categories every deal must see are covered first (data security, regulatory
  compliance, consortium governance, vendor viability, user adoption, "wrong
  tool", and integration when the deal names systems), then the most relevant
  remaining entries (at most two per category) up to TARGET_ITEMS;
- likelihood rises by one (max 5) in a scenario the entry lists in `rises_in`;
  items are sorted by likelihood x impact, ties by id.

Regional law: evidence keeps the policies of the deal's region only (for regions
without their own policies, the Chinese and EU texts the risk itself names), and
every regulatory item of a cn/eu/uk/us deal cites at least one policy of that
region, found by a policy search filtered on the region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from copilot.corpus.models import RiskEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.index.models import SearchFilters
from copilot.knowledge import KnowledgeBase
from copilot.reading.model import DealReading
from copilot.results import Notice, RiskItem, RisksResult
from copilot.skills.passages import Cited, sources_section
from copilot.skills.risk_rating import rate_risks, rating_lines
from copilot.skills.shaping import constraint_risks
from copilot.vocabulary import REGIONS, RISK_CATEGORIES, SCENARIOS, Language
from copilot.wording import Wording

TARGET_ITEMS = 10
MIN_ITEMS = 8
MAX_ITEMS = 12
PER_CATEGORY = 2
SEARCH_K = 12
QUERY_CHARS = 160
ALWAYS = (
    "data_security_privacy",
    "regulatory_compliance",
    "consortium_governance",
    "vendor_viability",
    "user_adoption",
    "wrong_tool",
)
LAW_REGIONS = ("cn", "eu", "uk", "us")  # regions whose own policies the corpus holds
DATA = Path(__file__).resolve().parent / "data" / "risks.yaml"


@cache
def _system_words() -> re.Pattern[str]:
    """Words that name a system to integrate with (data/risks.yaml)."""
    return re.compile(yaml.safe_load(DATA.read_text(encoding="utf-8"))["system_words"], re.IGNORECASE)


@dataclass(frozen=True)
class _Candidate:
    entry: RiskEntry
    relevance: float


def _li(lang: str) -> int:
    return 0 if lang == "zh" else 1


def entry_fits_region(entry: RiskEntry, region: str) -> bool:
    regions = set(entry.regions)
    if region in regions or "global" in regions:
        return True
    return region not in LAW_REGIONS and bool(regions & {"cn", "eu"})


def evidence_fits_region(doc_id: str, region: str) -> bool:
    """Cases always; policies only of the deal's region (cn and EU texts for regions without their own)."""
    if not doc_id.startswith("policy-"):
        return True
    if region in LAW_REGIONS:
        return doc_id.startswith(f"policy-{region}-")
    return doc_id.startswith(("policy-cn-", "policy-eu-"))


def _deal_query(deal: Deal) -> str:
    parts = [deal.industry or "", *deal.pains, *deal.goals, *deal.systems]
    parts += deal.constraints.texts()
    query = " ".join(p for p in parts if p).strip()
    return query or SCENARIOS[deal.scenario][_li(deal.lang)]


def _names_systems(deal: Deal) -> bool:
    return bool(deal.systems) or bool(_system_words().search(" ".join([*deal.pains, *deal.goals])))


def _candidates(kb: KnowledgeBase, g: Grounding, deal: Deal) -> dict[str, _Candidate]:
    """Every eligible entry with its relevance to the deal (0 when neither scenario nor search relates it)."""
    hits = g.search(_deal_query(deal), k=SEARCH_K, filters=SearchFilters(type="risk", language=deal.lang))
    rank: dict[str, int] = {}
    for hit in hits:
        rank.setdefault(hit.doc_id, len(rank))
    out = {}
    for entry in kb.risks:
        if not entry_fits_region(entry, deal.region):
            continue
        relevance = 3.0 * (deal.scenario in entry.rises_in) + 2.0 * (deal.scenario in entry.scenarios)
        if entry.id in rank:
            relevance += 2.0 * (1.0 - rank[entry.id] / max(len(rank), 1))
        if deal.region in entry.regions:
            relevance += 1.0
        if not any(evidence_fits_region(e, deal.region) for e in entry.evidence):
            relevance -= 2.0  # a risk shown only by another region's law
        out[entry.id] = _Candidate(entry, relevance)
    return out


def _ranked(candidates: list[_Candidate]) -> list[_Candidate]:
    return sorted(candidates, key=lambda c: (-c.relevance, c.entry.id))


def select_risks(kb: KnowledgeBase, g: Grounding, deal: Deal) -> tuple[list[RiskEntry], list[str]]:
    """The entries of the checklist, and the categories that had to fall back to another region's entry."""
    pool = _candidates(kb, g, deal)
    required = list(ALWAYS)
    if _names_systems(deal):
        required.insert(4, "integration")
    chosen: list[RiskEntry] = []
    fallbacks: list[str] = []
    for category in required:
        in_category = _ranked([c for c in pool.values() if c.entry.category == category])
        if in_category:
            chosen.append(in_category[0].entry)
            continue
        others = sorted((e for e in kb.risks if e.category == category), key=lambda e: (-len(set(e.regions)), e.id))
        if others:
            chosen.append(others[0])
            fallbacks.append(category)

    def fill(cap: int, minimum_relevance: float) -> None:
        for candidate in _ranked(list(pool.values())):
            if len(chosen) >= TARGET_ITEMS:
                return
            entry = candidate.entry
            if entry in chosen or candidate.relevance < minimum_relevance:
                continue
            if _count(chosen, entry) >= cap:
                continue
            chosen.append(entry)

    fill(PER_CATEGORY, 1.0)
    if len(chosen) < MIN_ITEMS:
        fill(MAX_ITEMS, 0.0)
    # Entries that rise in this scenario are worth showing even beyond the target, up to the maximum.
    for candidate in _ranked(list(pool.values())):
        if len(chosen) >= MAX_ITEMS:
            break
        entry = candidate.entry
        if deal.scenario in entry.rises_in and entry not in chosen and _count(chosen, entry) < PER_CATEGORY:
            chosen.append(entry)
    return chosen, fallbacks


def _count(chosen: list[RiskEntry], entry: RiskEntry) -> int:
    return sum(1 for e in chosen if e.category == entry.category)


def _likelihood(entry: RiskEntry, scenario: str) -> int:
    return min(5, entry.likelihood + 1) if scenario in entry.rises_in else entry.likelihood


def _meter(score: int) -> str:
    return "●" * score + "○" * (5 - score)


def risk_query(entry: RiskEntry, lang: str) -> str:
    """The query an entry's passages are cited with: its title and the start of its description (short: embedding
    cost grows with length). The same for every deal: the warm-up rehearsal embeds every entry's."""
    return f"{entry.title(lang)} {entry.description.get(lang)[:QUERY_CHARS]}"


def risks_offline(kb: KnowledgeBase, g: Grounding, deal: Deal, reading: DealReading | None = None) -> RisksResult:
    """The checklist; with the deal's reading, its compliance regimes and residency boundaries come first."""
    lang = deal.lang
    li = _li(lang)
    src = Cited(g, reading.text() if reading is not None else deal.text())
    entries, fallbacks = select_risks(kb, g, deal)
    items: list[RiskItem] = []
    for entry in entries:
        title = entry.title(lang)
        description = entry.description.get(lang)
        query = risk_query(entry, lang)
        src.cite_doc(entry.id, query)
        evidence = []
        for doc_id in entry.evidence:
            if evidence_fits_region(doc_id, deal.region) and src.cite_doc(doc_id, query) is not None:
                evidence.append(doc_id)
        if entry.category == "regulatory_compliance" and deal.region in LAW_REGIONS:
            prefix = f"policy-{deal.region}-"
            if not any(e.startswith(prefix) for e in evidence):
                filters = SearchFilters(type="policy", region=deal.region, language=lang)
                for hit in g.search(f"{query} {_deal_query(deal)}", k=3, filters=filters):
                    if hit.doc_id.startswith(prefix):
                        src.cite(hit)
                        evidence.append(hit.doc_id)
                        break
        items.append(
            RiskItem(
                risk_id=entry.id,
                category=entry.category,
                category_label=RISK_CATEGORIES[entry.category][li],
                risk=title,
                description=src.ground(entry.id, description) or "",
                likelihood=_likelihood(entry, deal.scenario),
                impact=entry.impact,
                mitigations=src.ground_all(entry.id, [m.get(lang) for m in entry.mitigations]),
                owner=entry.owner,
                warning_signals=src.ground_all(entry.id, [s.get(lang) for s in entry.signals]),
                evidence=evidence,
            )
        )
    items = rate_risks(items, deal, classify=kb.understanding.classify)
    notices = []
    if reading is not None:
        regimes = {r.key: r for r in kb.regimes}
        shaped, shaped_notices = constraint_risks(reading.model_copy(update={"deal": deal}), regimes, src)
        items += shaped
        notices += shaped_notices
    items.sort(key=lambda i: (-(i.likelihood * i.impact), i.risk_id))
    if "regulatory_compliance" in fallbacks:
        region = REGIONS[deal.region][li]
        notices.append(Notice(kind="no_knowledge", message=Wording("risks", lang)("no_regional_entry", region=region)))
    language: Language = "zh" if lang == "zh" else "en"
    result = RisksResult(language=language, items=items, citations=list(src.citations), notices=notices)
    raised = {e.id for e in entries if _likelihood(e, deal.scenario) != e.likelihood}
    result.text = render_risks(result, deal, raised, [n.message for n in notices])
    return result


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def render_risks(result: RisksResult, deal: Deal, raised: set[str], notes: list[str]) -> str:
    """Markdown: a summary table, then each risk with its signals, mitigations and evidence, then sources."""
    lang = result.language
    li = _li(lang)
    say = Wording("risks", lang)
    sep = str(say.entries["sep"])
    titles = {c.doc_id: c.title for c in result.citations}
    lines = [
        say("title", customer=deal.who(lang)),
        "",
        say("intro", scenario=SCENARIOS[deal.scenario][li], region=REGIONS[deal.region][li]),
        "",
    ]
    if notes:
        lines += [*[f"> {note}" for note in notes], ""]
    lines += [say("head"), "|---|---|---|---|---|"]
    for item in result.items:
        rises = " ↑" if item.risk_id in raised else ""
        lines.append(
            f"| {_cell(item.risk)} | {_cell(item.category_label)} | {_meter(item.likelihood)}{rises} | "
            f"{_meter(item.impact)} | {say(f'owner.{item.owner}')} |"
        )
    for item in result.items:
        lines += ["", f"### {item.risk}"]
        lines.append(
            say(
                "meta",
                category=item.category_label,
                likelihood=_meter(item.likelihood),
                impact=_meter(item.impact),
                owner=say(f"owner.{item.owner}"),
            )
        )
        lines += rating_lines(item, lang)
        if item.description:
            lines += ["", item.description]
        if item.warning_signals:
            lines += ["", say("signals"), *[f"- {s}" for s in item.warning_signals]]
        if item.mitigations:
            lines += ["", say("mitigations"), *[f"- {m}" for m in item.mitigations]]
        if item.evidence:
            lines += ["", str(say.entries["evidence"]) + sep.join(titles.get(e, e) for e in item.evidence)]
    lines += ["", sources_section(result.citations, lang, level=3)]
    return "\n".join(lines).strip() + "\n"
