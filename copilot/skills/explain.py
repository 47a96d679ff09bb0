"""Explain: turn technical text into a business story for the deal's audience, in four beats.

The beats (today, what changes, proof, what it means for you: copilot.skills.story) are
composed only from the deal, the vendor profile and the knowledge base, each of complete
sentences, none repeating another. Jargon either disappears (its name goes) or is explained in
plain words; every glossary term left in the story is listed as explained, whichever text brought
it in. What the rep must not say goes to `rep_notes`. Wording: prompts/offline/<lang>/story.yaml.
"""

from __future__ import annotations

from copilot.corpus.models import GlossaryEntry, PlaybookEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase, TermMatch
from copilot.reading.build import scenario_chain_types
from copilot.results import ExplainResult, TermHandling
from copilot.skills.passages import Cited, closing_parts, join_list, similarity
from copilot.skills.story import (
    Beats,
    changes_beat,
    means_beat,
    proof_beat,
    today_beat,
    without_repeats,
    words,
)
from copilot.text.chunking import split_sentences
from copilot.vendor import VendorProfile

MAX_EXPLAINED = 3


def _core(text: str, lang: str) -> str:
    """The first sentence of a glossary field (the rest are examples), or two when the first is very short."""
    sentences = split_sentences(text)
    if not sentences:
        return text
    core = sentences[0]
    if len(sentences) > 1 and len(core) < (8 if lang == "zh" else 25):
        core += ("" if lang == "zh" else " ") + sentences[1]
    return core


def _deal_context(deal: Deal, playbook: PlaybookEntry, lang: str) -> str:
    """What the story is about, for ranking terms: the deal's own words, else the playbook pains."""
    return "\n".join([*deal.pains, *deal.goals] or [p.get(lang) for p in playbook.pains])


def _relevance(kb: KnowledgeBase, context: str, entries: list[GlossaryEntry], lang: str) -> dict[str, float]:
    """How close each term's business outcome is to the deal (cosine similarity)."""
    if not entries:
        return {}
    sims = similarity(kb, [context], [_core(e.outcome.get(lang), lang) for e in entries])[0]
    return {e.id: float(s) for e, s in zip(entries, sims, strict=True)}


def _choose_explained(matches: list[TermMatch], scenario: str, relevance: dict[str, float]) -> list[str]:
    """The few terms worth explaining to executives: the deal scenario's terms closest to the deal.

    Every other term is removed: its name does not appear in the story.
    """
    own = [m for m in matches if scenario in m.entry.scenarios] or matches[:1]
    ranked = sorted(own, key=lambda m: (-relevance.get(m.entry.id, 0.0), m.start))[:MAX_EXPLAINED]
    return [m.entry.id for m in sorted(ranked, key=lambda m: m.start)]


def story_of(result: ExplainResult) -> str:
    return "\n".join([result.today, result.cost_today, result.what_changes, result.proof, result.what_it_means])


def _terms(
    kb: KnowledgeBase, c: Cited, matches: list[TermMatch], explained: list[str], story: str, lang: str
) -> list[TermHandling]:
    """Each input term with its handling, plus any glossary term that entered the story through corpus text."""
    in_story = {m.entry.id: m for m in kb.find_terms(story)}
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
    w = words(lang)
    sep = "：" if lang == "zh" else ": "
    audience = join_list(deal.audience, lang)
    heading = f"# {w('heading.title')}{sep}{deal.who(lang)}"
    if audience:
        label = w("heading.for", audience=audience)
        heading += f"（{label}）" if lang == "zh" else f" ({label})"
    today = "\n\n".join(p for p in (result.today, result.cost_today) if p)
    parts = [
        heading,
        f"## {w('heading.today')}\n{today}",
        f"## {w('heading.changes')}\n{result.what_changes}",
        f"## {w('heading.proof')}\n{result.proof}",
    ]
    if result.what_it_means:
        parts.append(f"## {w('heading.means')}\n{result.what_it_means}")
    if result.terms:
        lines = []
        for term in result.terms:
            name = f"「{term.term}」" if lang == "zh" else f'"{term.term}"'
            if term.handling == "explained":
                lines.append(f"- {name}{sep}{w('explained')}{sep}{term.plain}")
            else:
                lines.append(f"- {name}{sep}{w('removed')}")
        parts.append(f"## {w('heading.terms')}\n" + "\n".join(lines))
    parts += closing_parts(result.rep_notes, w("heading.rep_notes"), result.citations, lang)
    return "\n\n".join(parts) + "\n"


def explain_offline(
    kb: KnowledgeBase,
    g: Grounding,
    deal: Deal,
    text: str,
    lang: str,
    vendor: VendorProfile | None = None,
    chain_type: str | None = None,
) -> ExplainResult:
    """A four-beat business story of `text` (technical prose or a term list) for the deal's audience."""
    playbook = kb.playbook(deal.scenario)
    inp = [text, deal.text(), vendor.text() if vendor else ""]
    matches = kb.find_terms(text)
    relevance = _relevance(kb, _deal_context(deal, playbook, lang), [m.entry for m in matches], lang)
    explained = _choose_explained(matches, deal.scenario, relevance)
    chain = chain_type or deal.chain_type or scenario_chain_types().get(deal.scenario, "consortium")

    c = Cited(g)
    beats = Beats()
    beats.today = today_beat(kb, c, deal, playbook, lang, inp)
    beats.what_changes, avoid_notes = changes_beat(kb, c, deal, chain, matches, explained, vendor, lang, inp)
    beats.proof, beats.notices, case_notes = proof_beat(kb, c, deal, lang, inp)
    beats.what_it_means = means_beat(c, deal, playbook, lang, inp)
    today, changes, proof, means = without_repeats(
        [beats.today, beats.what_changes, beats.proof, beats.what_it_means], lang
    )
    story = "\n".join([today, changes, proof, means])
    terms = _terms(kb, c, matches, explained, story, lang)

    result = ExplainResult(
        language=lang,  # type: ignore[arg-type]
        today=today,
        what_changes=changes,
        proof=proof,
        what_it_means=means,
        terms=terms,
        citations=c.citations,
        notices=beats.notices,
        rep_notes=[*case_notes, *avoid_notes],
    )
    return result.model_copy(update={"text": render_explain(result, deal)})
