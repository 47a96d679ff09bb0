"""Explain: turn technical text into a business-outcome story for the deal's audience.

The story has four parts (today, what it costs, what changes, proof) composed
only from the deal and the knowledge base: the deal's pains and goals, the
scenario playbook, the glossary entries of the terms found in the input, and a
real case with a measured outcome. Jargon either disappears (its business
outcome stays, its name goes) or is explained in plain words; every glossary
term left in the story is listed as explained, whichever text brought it in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.corpus.models import Document, GlossaryEntry, MarkdownMeta, PlaybookEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase, TermMatch
from copilot.results import ExplainResult, Notice, TermHandling
from copilot.skills.passages import (
    Cited,
    clause,
    end_sentence,
    join_list,
    lower_first,
    similarity,
    sources_section,
)
from copilot.text.chunking import split_sentences
from copilot.text.numbers import find_figures
from copilot.vocabulary import SCENARIOS

MAX_EXPLAINED = 3
MAX_OUTCOMES = 3
MAX_PLAYBOOK_PAINS = 2
MAX_GOALS = 2
MAX_PROOF_LINES = 2
CASE_POOL = 10

_STATUS_RANK = {"live": 0, "pilot": 1, "unclear": 2, "wound_down": 3, "failed": 4, "not_blockchain": 5}

_STATUS_LABEL = {
    "zh": {
        "live": "已投产",
        "pilot": "试点",
        "unclear": "现状不明",
        "wound_down": "已停止运营",
        "failed": "已失败",
        "not_blockchain": "非区块链项目",
    },
    "en": {
        "live": "live",
        "pilot": "pilot",
        "unclear": "status unclear",
        "wound_down": "wound down",
        "failed": "failed",
        "not_blockchain": "not a blockchain project",
    },
}

_MEASURED_HEADING = {"zh": "量化成果", "en": "Measured outcomes"}

_T = {
    "zh": {
        "title": "业务故事",
        "for": "讲给{audience}听",
        "today": "今天的情况",
        "cost": "今天的代价",
        "changes": "会有什么变化",
        "proof": "真实案例",
        "terms": "术语处理",
        "today_deal": "今天在{customer}，{audience}每天面对的是：{pains}。",
        "today_deal_noaudience": "今天在{customer}，大家每天面对的是：{pains}。",
        "today_playbook": "这在{scenario}项目里很常见：{pains}",
        "cost_buyer": "按贵方自己给出的数字：{items}。",
        "cost_goal": "贵方想达到的是：{goals}。今天的做法和这个目标之间的差距，就是每天都在付出的代价。",
        "cost_gap": "这些时间和人力，每天都在实打实地消耗。",
        "cost_playbook": "贵方还没有给出具体数字；从同类项目看，代价主要落在这些地方：{pains}",
        "cost_baseline": "建议第一阶段先把这些代价测成基线，以后每一步的价值都和它对比。",
        "changes_outcomes": "对{audience}来说，变化在于：",
        "changes_outcomes_noaudience": "变化在于：",
        "changes_terms": "方案里有几个词值得用白话说清楚：",
        "changes_term": "「{term}」说白了就是：{plain}打个比方：{analogy}",
        "changes_goals": "这些变化会用贵方自己的数据来衡量：{goals}。",
        "changes_deal_goals": "验收的标准就是贵方自己的目标：{goals}。",
        "proof_case": "「{title}」（{status}）的实测结果：",
        "proof_caveat": "这是该案例的实测结果，贵方自己的效果要在第一阶段测出基线后再对比。",
        "proof_none": "说实话，知识库里还没有{scenario}场景已投产并有量化成果的案例，下面是最接近的一个。",
        "proof_nothing": "说实话，知识库里还没有能拿出量化成果的相关案例，建议先用贵方自己的试点数据来证明。",
        "explained": "已解释",
        "removed": "已从故事中删去（高管不需要这个词）",
        "sources": "来源",
    },
    "en": {
        "title": "Business story",
        "for": "for {audience}",
        "today": "Today",
        "cost": "What it costs today",
        "changes": "What changes",
        "proof": "Proof from a real case",
        "terms": "Jargon",
        "today_deal": "Today at {customer}, the picture for your {audience} is this: {pains}.",
        "today_deal_noaudience": "Today at {customer}, the picture is this: {pains}.",
        "today_playbook": "This is common in {scenario} projects: {pains}",
        "cost_buyer": "In your own figures: {items}.",
        "cost_goal": (
            "What you want is this: {goals}. The gap between today's way of working and that goal is what you "
            "pay for every day."
        ),
        "cost_gap": "That time and effort is spent every single day.",
        "cost_playbook": "You have not shared figures yet; in similar projects the cost shows up here: {pains}",
        "cost_baseline": (
            "We suggest measuring these costs as a baseline in the first phase, so every later step can be "
            "compared with it."
        ),
        "changes_outcomes": "For your {audience}, this is what changes:",
        "changes_outcomes_noaudience": "This is what changes:",
        "changes_terms": "A few words from the proposal, in plain English:",
        "changes_term": '"{term}" simply means: {plain} Think of it this way: {analogy}',
        "changes_goals": "These changes are measured on your own data: {goals}.",
        "changes_deal_goals": "Success is judged against your own goal: {goals}.",
        "proof_case": '"{title}" ({status}) measured:',
        "proof_caveat": (
            "That is what this case measured; your own result is judged against the baseline measured in the "
            "first phase."
        ),
        "proof_none": (
            "To be honest, the knowledge base has no live {scenario} case with measured outcomes yet; this is "
            "the closest one."
        ),
        "proof_nothing": (
            "To be honest, the knowledge base has no related case with measured outcomes; the proof will have "
            "to come from your own pilot data."
        ),
        "explained": "explained",
        "removed": "removed from the story (executives do not need the word)",
        "sources": "Sources",
    },
}


@dataclass
class _Story:
    today: str
    cost_today: str
    what_changes: str
    proof: str


def _has_figure(text: str) -> bool:
    return bool(find_figures(text))


def _scenario_label(deal: Deal, lang: str) -> str:
    label = SCENARIOS[deal.scenario][0 if lang == "zh" else 1]
    return label if lang == "zh" else label.lower()


def _deal_context(deal: Deal, playbook: PlaybookEntry, lang: str) -> str:
    """What the story is about, for ranking outcomes: the deal's own words, else the playbook pains."""
    words = [*deal.pains, *deal.goals] or [p.get(lang) for p in playbook.pains]
    return "\n".join(words)


def _relevance(kb: KnowledgeBase, context: str, entries: list[GlossaryEntry], lang: str) -> dict[str, float]:
    """How close each term's business outcome is to the deal (cosine similarity)."""
    if not entries:
        return {}
    sims = similarity(kb, [context], [_core(e.outcome.get(lang), lang) for e in entries])[0]
    return {e.id: float(s) for e, s in zip(entries, sims, strict=True)}


def _choose_explained(matches: list[TermMatch], scenario: str, relevance: dict[str, float]) -> list[str]:
    """The few terms worth explaining to executives: the deal scenario's terms closest to the deal.

    Every other term is removed: its business outcome may stay in the story, its name does not.
    """
    own = [m for m in matches if scenario in m.entry.scenarios] or matches[:1]
    ranked = sorted(own, key=lambda m: (-relevance.get(m.entry.id, 0.0), m.start))[:MAX_EXPLAINED]
    return [m.entry.id for m in sorted(ranked, key=lambda m: m.start)]


def _pick_pains(kb: KnowledgeBase, deal: Deal, playbook: PlaybookEntry, lang: str, exclude: set[int]) -> list[int]:
    """Indices of the playbook pains closest to the deal's own pains (in playbook order)."""
    candidates = [i for i in range(len(playbook.pains)) if i not in exclude]
    if not candidates:
        return []
    if not deal.pains:
        return candidates[:MAX_PLAYBOOK_PAINS]
    sims = similarity(kb, deal.pains, [playbook.pains[i].get(lang) for i in candidates])
    best = sims.max(axis=0)
    ranked = sorted(range(len(candidates)), key=lambda j: (-float(best[j]), j))[:MAX_PLAYBOOK_PAINS]
    return sorted(candidates[j] for j in ranked)


def _today(
    kb: KnowledgeBase, c: Cited, deal: Deal, playbook: PlaybookEntry, lang: str, inp: list[str]
) -> tuple[str, set[int]]:
    """Who lives with what today: the deal's pains, then the playbook pains closest to them.

    Returns the text and the playbook pains it used (so the cost part tells new ones).
    """
    t = _T[lang]
    audience = join_list(deal.audience, lang)
    parts: list[str] = []
    if deal.pains:
        sep = "；" if lang == "zh" else "; "
        pains = sep.join(clause(p, lang) for p in deal.pains)
        key = "today_deal" if audience else "today_deal_noaudience"
        parts.append(t[key].format(customer=deal.who(lang), audience=audience, pains=pains))
    chosen = []
    used: set[int] = set()
    for i in _pick_pains(kb, deal, playbook, lang, set()):
        text = c.grounded(playbook.id, playbook.pains[i].get(lang), inp)
        if text:
            chosen.append(end_sentence(text, lang))
            used.add(i)
    if chosen:
        joined = "".join(chosen) if lang == "zh" else " ".join(chosen)
        parts.append(t["today_playbook"].format(scenario=_scenario_label(deal, lang), pains=lower_first(joined, lang)))
    return ("" if lang == "zh" else " ").join(parts), used


def _cost_today(
    kb: KnowledgeBase, c: Cited, deal: Deal, playbook: PlaybookEntry, lang: str, inp: list[str], told: set[int]
) -> tuple[str, bool]:
    """The cost in the buyer's own figures if they gave any; else the playbook pains phrased as cost.

    Returns the text and whether the deal's goals were used (so what-changes does not repeat them).
    """
    t = _T[lang]
    sep = "；" if lang == "zh" else "; "
    pains = [p for p in deal.pains if _has_figure(p)]
    goals = [g_ for g_ in deal.goals if _has_figure(g_)]
    glue = "" if lang == "zh" else " "
    if pains or goals:
        parts = []
        if pains:
            parts.append(t["cost_buyer"].format(items=sep.join(clause(p, lang) for p in pains)))
        if goals:
            parts.append(t["cost_goal"].format(goals=sep.join(clause(x, lang) for x in goals)))
        else:
            parts.append(t["cost_gap"])
        return glue.join(parts), bool(goals)
    chosen = []
    for i in _pick_pains(kb, deal, playbook, lang, told):
        text = c.grounded(playbook.id, playbook.pains[i].get(lang), inp)
        if text:
            chosen.append(end_sentence(text, lang))
    if not chosen:
        return t["cost_baseline"], False
    joined = "".join(chosen) if lang == "zh" else " ".join(chosen)
    return glue.join([t["cost_playbook"].format(pains=lower_first(joined, lang)), t["cost_baseline"]]), False


def _core(text: str, lang: str) -> str:
    """The first sentence of a glossary field (the rest are examples), or two when the first is very short."""
    sentences = split_sentences(text)
    if not sentences:
        return text
    core = sentences[0]
    if len(sentences) > 1 and len(core) < (8 if lang == "zh" else 25):
        core += ("" if lang == "zh" else " ") + sentences[1]
    return core


def _new_terms(kb: KnowledgeBase, text: str, known: set[str]) -> int:
    return sum(1 for m in kb.find_terms(text) if m.entry.id not in known)


def _what_changes(
    kb: KnowledgeBase,
    c: Cited,
    deal: Deal,
    playbook: PlaybookEntry,
    matches: list[TermMatch],
    explained: list[str],
    lang: str,
    inp: list[str],
    deal_goals_used: bool,
) -> str:
    """Business outcomes of the terms found, the explained terms in plain words, and how change is measured."""
    t = _T[lang]
    audience = join_list(deal.audience, lang)
    sep = "；" if lang == "zh" else "; "
    parts: list[str] = []

    # Outcomes: of the explained terms, then of the other terms found, then of glossary entries retrieved
    # for the deal (when the input names no term); each group closest to the deal first. Outcomes that
    # would bring further jargon into the story are used only when there are not enough clean ones.
    own = {m.entry.id: m.entry for m in matches}
    retrieved = c.g.search(
        _deal_context(deal, playbook, lang), k=4, filters=SearchFilters(type="glossary", scenario=deal.scenario)
    )
    extra = [e for e in kb.glossary if e.id in {h.doc_id for h in retrieved} and e.id not in own]
    relevance = _relevance(kb, _deal_context(deal, playbook, lang), [*own.values(), *extra], lang)
    groups = [
        [e for e in own.values() if e.id in explained],
        [e for e in own.values() if e.id not in explained],
        extra,
    ]
    ordered = [e for group in groups for e in sorted(group, key=lambda e: -relevance.get(e.id, 0.0))]
    known = set(explained)
    clean = [e for e in ordered if _new_terms(kb, _core(e.outcome.get(lang), lang), known | {e.id}) == 0]
    outcomes: list[str] = []
    for entry in clean + [e for e in ordered if e not in clean]:
        if len(outcomes) >= MAX_OUTCOMES or (len(outcomes) >= 2 and entry not in clean):
            break
        text = c.grounded(entry.id, _core(entry.outcome.get(lang), lang), inp)
        if text and end_sentence(text, lang) not in outcomes:
            outcomes.append(end_sentence(text, lang))
    if outcomes:
        key = "changes_outcomes" if audience else "changes_outcomes_noaudience"
        parts.append(t[key].format(audience=audience) + "\n" + "\n".join(f"- {o}" for o in outcomes))

    plain_lines = []
    for m in matches:
        if m.entry.id not in explained:
            continue
        plain = c.grounded(m.entry.id, m.entry.plain.get(lang), inp)
        analogy = c.grounded(m.entry.id, m.entry.analogy.get(lang), inp)
        if plain and analogy:
            plain_lines.append(
                t["changes_term"].format(
                    term=m.surface, plain=end_sentence(plain, lang), analogy=end_sentence(analogy, lang)
                )
            )
    if plain_lines:
        parts.append(t["changes_terms"] + "\n" + "\n".join(f"- {line}" for line in plain_lines))

    goals = []
    for goal in playbook.goals[:MAX_GOALS]:
        text = c.grounded(playbook.id, goal.get(lang), inp)
        if text:
            goals.append(clause(text, lang))
    measure = []
    if goals:
        measure.append(t["changes_goals"].format(goals=sep.join(goals)))
    if deal.goals and not deal_goals_used:
        measure.append(t["changes_deal_goals"].format(goals=sep.join(clause(x, lang) for x in deal.goals)))
    if measure:
        parts.append(("" if lang == "zh" else " ").join(measure))
    return "\n\n".join(parts)


def _measured_lines(doc: Document, lang: str) -> list[str]:
    """Bullets of a case's measured-outcomes section that carry a figure (dates alone do not count)."""
    section = doc.sections.get(lang, "")
    match = re.search(rf"^###\s*{re.escape(_MEASURED_HEADING[lang])}\s*$(.*?)(?=^###\s|\Z)", section, re.S | re.M)
    if not match:
        return []
    lines = []
    for raw in match.group(1).splitlines():
        line = raw.strip()
        if line.startswith(("- ", "* ")) and find_figures(line[2:]):
            lines.append(line[2:].strip())
    return lines


def _status(doc: Document) -> str:
    return (doc.meta.status or "") if isinstance(doc.meta, MarkdownMeta) else ""


def _rank_cases(kb: KnowledgeBase, hits: list[Hit], lang: str) -> list[tuple[Document, list[str], int]]:
    ranked = []
    for position, hit in enumerate(hits):
        doc = kb.doc(hit.doc_id)
        if doc is None:
            continue
        lines = _measured_lines(doc, lang)
        if lines:
            ranked.append((doc, lines, position))
    return sorted(ranked, key=lambda r: (_STATUS_RANK.get(_status(r[0]), 9), r[2]))


def _proof(kb: KnowledgeBase, c: Cited, deal: Deal, lang: str, inp: list[str]) -> tuple[str, list[Notice]]:
    t = _T[lang]
    query = " ".join([_scenario_label(deal, lang), *deal.pains, *deal.goals, _MEASURED_HEADING[lang]])
    hits = c.g.search(query, k=CASE_POOL, filters=SearchFilters(type="case", scenario=deal.scenario))
    ranked = _rank_cases(kb, hits, lang)
    notices: list[Notice] = []
    lead = ""
    live = [r for r in ranked if _status(r[0]) == "live"]
    if live:
        chosen = live[0]
    else:
        # No live case with measured outcomes in this scenario: say so, and take the closest one,
        # preferring a live case from a neighbouring scenario over a pilot of this one.
        lead = t["proof_none"].format(scenario=_scenario_label(deal, lang))
        wider = _rank_cases(kb, c.g.search(query, k=CASE_POOL, filters=SearchFilters(type="case")), lang)
        pool = [r for r in wider if _status(r[0]) == "live"] or ranked or wider
        if not pool:
            notices.append(Notice(kind="no_knowledge", message=t["proof_nothing"]))
            return t["proof_nothing"], notices
        chosen = pool[0]
        notices.append(Notice(kind="info", message=lead))
    doc, lines, _ = chosen
    kept: list[str] = []
    for line in lines:
        if len(kept) >= MAX_PROOF_LINES:
            break
        text = c.grounded(doc.id, line, inp)
        if text:
            kept.append(clause(text, lang, lower=False))
    if not kept:
        return t["proof_nothing"], [Notice(kind="no_knowledge", message=t["proof_nothing"])]
    status = _status(doc)
    sentence = t["proof_case"].format(title=doc.meta.title(lang), status=_STATUS_LABEL[lang].get(status, status))
    bullets = "\n".join(f"- {end_sentence(line, lang)}" for line in kept)
    head = ("" if lang == "zh" else " ").join(p for p in (lead, sentence) if p)
    return f"{head}\n{bullets}\n\n{t['proof_caveat']}", notices


def _terms(
    kb: KnowledgeBase,
    c: Cited,
    matches: list[TermMatch],
    explained: list[str],
    story: _Story,
    lang: str,
) -> list[TermHandling]:
    """Each input term with its handling, plus any glossary term that entered the story through corpus text."""
    text = "\n".join([story.today, story.cost_today, story.what_changes, story.proof])
    in_story = {m.entry.id: m for m in kb.find_terms(text)}
    out: list[TermHandling] = []
    seen: set[str] = set()

    def explain(entry: GlossaryEntry, surface: str) -> TermHandling:
        c.text_of(entry.id, entry.plain.get(lang))
        return TermHandling(term=surface, doc_id=entry.id, handling="explained", plain=entry.plain.get(lang))

    for m in matches:
        seen.add(m.entry.id)
        if m.entry.id in explained or m.entry.id in in_story:
            out.append(explain(m.entry, m.surface))
        else:
            out.append(TermHandling(term=m.surface, doc_id=m.entry.id, handling="removed", plain=""))
    for doc_id, m in in_story.items():
        if doc_id not in seen:
            seen.add(doc_id)
            out.append(explain(m.entry, m.surface))
    return out


def render_explain(result: ExplainResult, deal: Deal) -> str:
    lang = result.language
    t = _T[lang]
    sep = "：" if lang == "zh" else ": "
    audience = join_list(deal.audience, lang)
    heading = f"# {t['title']}{sep}{deal.who(lang)}"
    if audience:
        label = t["for"].format(audience=audience)
        heading += f"（{label}）" if lang == "zh" else f" ({label})"
    parts = [
        heading,
        f"## {t['today']}\n{result.today}",
        f"## {t['cost']}\n{result.cost_today}",
        f"## {t['changes']}\n{result.what_changes}",
        f"## {t['proof']}\n{result.proof}",
    ]
    if result.terms:
        lines = []
        for term in result.terms:
            name = f"「{term.term}」" if lang == "zh" else f'"{term.term}"'
            if term.handling == "explained":
                lines.append(f"- {name}{sep}{t['explained']}{sep}{term.plain}")
            else:
                lines.append(f"- {name}{sep}{t['removed']}")
        parts.append(f"## {t['terms']}\n" + "\n".join(lines))
    sources = sources_section(result.citations, lang)
    if sources:
        parts.append(sources)
    return "\n\n".join(parts) + "\n"


def explain_offline(kb: KnowledgeBase, g: Grounding, deal: Deal, text: str, lang: str) -> ExplainResult:
    """A business-outcome story of `text` (technical prose or a term list) for the deal's audience."""
    playbook = kb.playbook(deal.scenario)
    inp = [text, deal.text()]
    matches = kb.find_terms(text)
    relevance = _relevance(kb, _deal_context(deal, playbook, lang), [m.entry for m in matches], lang)
    explained = _choose_explained(matches, deal.scenario, relevance)

    c = Cited(g)
    today, told = _today(kb, c, deal, playbook, lang, inp)
    cost_today, goals_used = _cost_today(kb, c, deal, playbook, lang, inp, told)
    what_changes = _what_changes(kb, c, deal, playbook, matches, explained, lang, inp, goals_used)
    proof, notices = _proof(kb, c, deal, lang, inp)
    story = _Story(today, cost_today, what_changes, proof)
    terms = _terms(kb, c, matches, explained, story, lang)

    result = ExplainResult(
        language=lang,  # type: ignore[arg-type]
        today=today,
        cost_today=cost_today,
        what_changes=what_changes,
        proof=proof,
        terms=terms,
        citations=c.citations,
        notices=notices,
    )
    return result.model_copy(update={"text": render_explain(result, deal)})
