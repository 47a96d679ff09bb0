"""The four beats of a business story, each of complete sentences, none repeating another.

- **today**: who does what and what it costs: the deal's own pains and numbers; without numbers,
  the question to ask for them; without pains, the scenario's typical pains (cited) and the question.
- **what changes**: the mechanism in plain words: the glossary's buyer-facing sentence for the deal's
  chain type, the vendor's product when a profile is given, and the terms worth explaining.
- **proof**: the closest case by scenario with a measured outcome (a live one first), lines the
  corpus marks as unverified kept out and handed to the rep instead.
- **what it means**: tied to the deal's first goal (with the buyer's own number), else the playbook's.

What a rep must not say (the case's "do not say" line, unverified figures, when not to bring a
term up) goes to `rep_notes`, never into a beat. All wording: prompts/offline/<lang>/story.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.corpus.models import Document, GlossaryEntry, MarkdownMeta, PlaybookEntry
from copilot.deal import Deal
from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase, TermMatch
from copilot.results import Notice
from copilot.skills.passages import Cited, clause, end_sentence, join_list, similarity, squash
from copilot.text.chunking import split_sentences
from copilot.text.numbers import find_figures
from copilot.vendor import VendorProfile
from copilot.vocabulary import SCENARIOS
from copilot.wording import Wording

MAX_PROOF_LINES = 2
MAX_PLAYBOOK_PAINS = 2
MAX_CAPABILITIES = 2
CASE_POOL = 10
CAPABILITY_SHARE = 0.6
STATUS_RANK = {"live": 0, "pilot": 1, "unclear": 2, "wound_down": 3, "failed": 4, "not_blockchain": 5}
CHAIN_TERMS = {
    "consortium": "term-consortium-chain",
    "public": "term-public-chain",
    "permissioned": "term-private-chain",
}
_BILINGUAL = re.compile(r"\s+/\s+|(?<=[）)])/\s*")
_LIST_MARK = re.compile(r"^(?:[-*+]\s+|\d+[.)]\s+)")


def words(lang: str) -> Wording:
    return Wording("story", lang)


@dataclass
class Beats:
    today: str = ""
    what_changes: str = ""
    proof: str = ""
    what_it_means: str = ""
    notices: list[Notice] = field(default_factory=list)
    rep_notes: list[str] = field(default_factory=list)


def scenario_label(deal: Deal, lang: str) -> str:
    label = SCENARIOS[deal.scenario][0 if lang == "zh" else 1]
    return label if lang == "zh" else label.lower()


def glue(lang: str) -> str:
    return "" if lang == "zh" else " "


def has_figure(text: str) -> bool:
    return bool(find_figures(text))


def _lower(text: str, lang: str) -> str:
    """A clause continued inside a sentence: an English capital that only starts the sentence goes lower case."""
    first = text.split(" ", 1)[0]
    if lang == "en" and first[:1].isupper() and (len(first) == 1 or first[1:].islower()):
        return text[0].lower() + text[1:]
    return text


# -- today ----------------------------------------------------------------------------------------
def _closest(kb: KnowledgeBase, queries: list[str], texts: list[str], n: int) -> list[int]:
    """Indices of the `n` texts closest to any query (in their own order); the first `n` without queries."""
    if not texts:
        return []
    if not queries:
        return list(range(min(n, len(texts))))
    best = similarity(kb, queries, texts).max(axis=0)
    ranked = sorted(range(len(texts)), key=lambda j: (-float(best[j]), j))[:n]
    return sorted(ranked)


def today_beat(kb: KnowledgeBase, c: Cited, deal: Deal, playbook: PlaybookEntry, lang: str, inp: list[str]) -> str:
    """The deal's pains (with the buyer's numbers), else the scenario's closest pains; a question when no number."""
    w = words(lang)
    sep = "；" if lang == "zh" else "; "
    parts: list[str] = []
    if deal.pains:
        pains = sep.join(_lower(clause(p, lang, lower=False), lang) for p in deal.pains)
        parts.append(w("today_deal", customer=deal.who(lang), pains=pains))
    else:
        typical = [p.get(lang) for p in playbook.pains]
        chosen = []
        for i in _closest(kb, deal.goals, typical, MAX_PLAYBOOK_PAINS):
            text = c.grounded(playbook.id, typical[i], inp)
            if text:
                chosen.append(end_sentence(text, lang))
        if chosen:
            parts.append(w("today_playbook", scenario=scenario_label(deal, lang), pains=glue(lang).join(chosen)))
    if not any(has_figure(p) for p in deal.pains):
        questions = [q.get(lang) for q in playbook.discovery_questions]
        index = _closest(kb, [*deal.pains, *deal.goals] or [playbook.pains[0].get(lang)], questions, 1)
        question = c.grounded(playbook.id, questions[index[0]], inp) if index else None
        if question:
            parts.append(w("today_ask", customer=deal.who(lang), question=question))
    return glue(lang).join(p for p in parts if p)


# -- what changes ---------------------------------------------------------------------------------
def changes_beat(
    kb: KnowledgeBase,
    c: Cited,
    deal: Deal,
    chain_type: str,
    matches: list[TermMatch],
    explained: list[str],
    vendor: VendorProfile | None,
    lang: str,
    inp: list[str],
) -> tuple[str, list[str]]:
    """The mechanism in plain words, and notes for the rep (when not to bring a term up)."""
    w = words(lang)
    parts: list[str] = []
    notes: list[str] = []
    entry = _glossary(kb, CHAIN_TERMS.get(chain_type, ""))
    if entry is not None:
        example = c.grounded(entry.id, entry.example.get(lang), inp)
        if example:
            parts.append(w("changes_mechanism", example=end_sentence(example, lang)))
    parts.append(w("changes_chain_intro"))
    if vendor is not None and vendor.capabilities:
        chosen = relevant_capabilities(kb, deal, vendor, lang)
        capabilities = join_list([clause(x, lang) for x in chosen], lang)
        parts.append(w("changes_vendor", product=in_language(vendor.product, lang), capabilities=capabilities))
    for m in matches:
        if m.entry.id not in explained:
            continue
        plain = c.grounded(m.entry.id, m.entry.plain.get(lang), inp)
        if plain:
            parts.append(w("changes_term", term=m.surface, plain=end_sentence(plain, lang)))
            avoid = c.grounded(m.entry.id, m.entry.avoid_when.get(lang), inp)
            if avoid:
                notes.append(w("note_avoid", term=m.surface, note=avoid))
    return glue(lang).join(parts), notes


def in_language(text: str, lang: str) -> str:
    """One half of a vendor profile's bilingual "中文 / English" value (the whole value when it has one)."""
    halves = [h.strip() for h in _BILINGUAL.split(text)]
    if len(halves) != 2:
        return text
    return halves[0] if lang == "zh" else halves[1]


def relevant_capabilities(kb: KnowledgeBase, deal: Deal, vendor: VendorProfile, lang: str) -> list[str]:
    """The vendor's capabilities closest to the deal's scenario and pains (the best, and any near it)."""
    if not vendor.capabilities:
        return []
    query = " ".join([*SCENARIOS[deal.scenario], *deal.pains, *deal.goals])
    sims = similarity(kb, [query], vendor.capabilities)[0]
    top = float(sims.max())
    ranked = sorted(range(len(sims)), key=lambda i: (-float(sims[i]), i))
    keep = [i for i in ranked[:MAX_CAPABILITIES] if float(sims[i]) >= top * CAPABILITY_SHARE]
    return [in_language(vendor.capabilities[i], lang) for i in sorted(keep)]


def _glossary(kb: KnowledgeBase, term_id: str) -> GlossaryEntry | None:
    return next((e for e in kb.glossary if e.id == term_id), None)


# -- proof ----------------------------------------------------------------------------------------
def _section_lines(doc: Document, heading: str, lang: str) -> list[str]:
    section = doc.sections.get(lang, "")
    match = re.search(rf"^###\s*{re.escape(heading)}\s*$(.*?)(?=^###\s|\Z)", section, re.S | re.M)
    if not match:
        return []
    return [_LIST_MARK.sub("", line.strip()) for line in match.group(1).splitlines() if line.strip()]


def measured_lines(doc: Document, lang: str) -> list[str]:
    """Lines of a case's measured-outcomes section that carry a figure (dates alone do not count)."""
    return [line for line in _section_lines(doc, words(lang)("section.measured"), lang) if find_figures(line)]


def do_not_note(doc: Document, lang: str) -> str:
    """The case's own advice on what not to say: the last line of its how-to-use section."""
    lines = _section_lines(doc, words(lang)("section.how_to_use"), lang)
    return lines[-1] if lines else ""


def status_of(doc: Document) -> str:
    return (doc.meta.status or "") if isinstance(doc.meta, MarkdownMeta) else ""


def unverified(line: str, lang: str) -> bool:
    """A line the corpus itself marks as a plan, a vendor's claim or unconfirmed (markers are wording data)."""
    lowered = line.lower()
    return any(marker.lower() in lowered for marker in words(lang).all("unverified_markers"))


def rank_cases(kb: KnowledgeBase, hits: list[Hit], lang: str) -> list[tuple[Document, list[str], int]]:
    ranked = []
    for position, hit in enumerate(hits):
        doc = kb.doc(hit.doc_id)
        if doc is None:
            continue
        lines = [line for line in measured_lines(doc, lang) if not unverified(line, lang)]
        if lines:
            ranked.append((doc, lines, position))
    return sorted(ranked, key=lambda r: (STATUS_RANK.get(status_of(r[0]), 9), r[2]))


def proof_beat(
    kb: KnowledgeBase, c: Cited, deal: Deal, lang: str, inp: list[str]
) -> tuple[str, list[Notice], list[str]]:
    """The closest case with a measured outcome, notices, and the rep's notes on it."""
    w = words(lang)
    query = " ".join([scenario_label(deal, lang), *deal.pains, *deal.goals, w("section.measured")])
    hits = c.g.search(query, k=CASE_POOL, filters=SearchFilters(type="case", scenario=deal.scenario))
    ranked = rank_cases(kb, hits, lang)
    notices: list[Notice] = []
    lead = ""
    live = [r for r in ranked if status_of(r[0]) == "live"]
    if live:
        chosen = live[0]
    else:
        lead = w("proof_none", scenario=scenario_label(deal, lang))
        wider = rank_cases(kb, c.g.search(query, k=CASE_POOL, filters=SearchFilters(type="case")), lang)
        pool = [r for r in wider if status_of(r[0]) == "live"] or ranked or wider
        if not pool:
            notices.append(Notice(kind="no_knowledge", message=w("proof_nothing")))
            return w("proof_nothing"), notices, []
        chosen = pool[0]
        notices.append(Notice(kind="info", message=lead))
    doc, lines, _ = chosen
    kept: list[str] = []
    for line in lines:
        if len(kept) >= MAX_PROOF_LINES:
            break
        text = c.grounded(doc.id, line, inp)
        if text:
            kept.append(end_sentence(text, lang))
    if not kept:
        return w("proof_nothing"), [Notice(kind="no_knowledge", message=w("proof_nothing"))], []
    status = status_of(doc)
    head = w("proof_case", title=doc.meta.title(lang), status=w(f"status.{status}") if status else "")
    notes = []
    note = c.grounded(doc.id, do_not_note(doc, lang), inp) or ""
    if note:
        notes.append(w("note_do_not", title=doc.meta.title(lang), note=note))
    doubtful = [line for line in measured_lines(doc, lang) if unverified(line, lang)][:2]
    notes += [w("note_unverified", line=line) for line in doubtful if c.grounded(doc.id, line, inp)]
    text = glue(lang).join(p for p in (lead, head, *kept, w("proof_caveat")) if p)
    return text, notices, notes


# -- what it means --------------------------------------------------------------------------------
def means_beat(c: Cited, deal: Deal, playbook: PlaybookEntry, lang: str, inp: list[str]) -> str:
    w = words(lang)
    audience = join_list(deal.audience, lang) or w("means_audience_default")
    if deal.goals:
        return w("means_goal", audience=audience, goal=clause(deal.goals[0], lang, lower=False))
    goal = c.grounded(playbook.id, playbook.goals[0].get(lang), inp) if playbook.goals else None
    return w("means_playbook", audience=audience, goal=clause(goal, lang)) if goal else ""


# -- no repeats -----------------------------------------------------------------------------------
def without_repeats(beats: list[str], lang: str) -> list[str]:
    """Each beat without a sentence an earlier beat (or itself) already said."""
    seen: set[str] = set()
    out = []
    for beat in beats:
        kept = []
        for sentence in split_sentences(beat):
            key = squash(sentence).rstrip("。.")
            if key and key not in seen:
                seen.add(key)
                kept.append(sentence)
        out.append(glue(lang).join(kept))
    return out
