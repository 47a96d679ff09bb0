"""Deterministic metrics of what a rep carries into the room: the prep card, the story, rep notes apart.

- card_length: the card (without the rep's notes box) within ≤ 500 words (en) or ≤ 900 汉字 (zh);
- card_highlights: at most 3 highlights, each with a proof;
- fragment_rate: story beats and card points that are fragments (a sentence without a verb, or under
  8 words / 12 汉字); the gate wants 0;
- duplicate_sentences: sentences said twice within the card and story;
- tailoring: share of card sentences that name a deal entity (customer, pain, goal, system, constraint,
  audience, industry, vendor product); the gate wants ≥ 0.6;
- rep_note_leakage: a rep note, or a rep-only phrase (evals/data/rep_only_cues.yaml), in customer text.

Verbs: jieba's part-of-speech tags for Chinese; for English a verb list (evals/data/en_verbs.txt)
with regular inflections.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml

from copilot.deal import Deal
from copilot.results import BriefResult, ExplainResult, PrepCard
from copilot.skills.card import customer_text, render_card
from copilot.skills.passages import squash
from copilot.text.chunking import split_sentences
from copilot.text.segment import tokenize
from copilot.vendor import VendorProfile
from evals.models import MetricResult

DATA = Path(__file__).resolve().parent / "data"
CARD_BUDGET = {"zh": 900, "en": 500}
MIN_WORDS = {"zh": 12, "en": 8}
MAX_HIGHLIGHTS = 3
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_MARKUP = re.compile(r"^\s*(?:#+\s*|[-*]\s+|\d+\.\s+|>\s*)")


def _result(name: str, score: float, problems: list[str], skill: str | None = "brief") -> MetricResult:
    score = min(1.0, max(0.0, score))
    return MetricResult(name=name, skill=skill, score=round(score, 4), passed=not problems, problems=problems)


@cache
def _en_verbs() -> frozenset[str]:
    lines = (DATA / "en_verbs.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.lower() for line in lines if not line.startswith("#") for w in line.split())


@cache
def _cues() -> dict[str, list[str]]:
    data = yaml.safe_load((DATA / "rep_only_cues.yaml").read_text(encoding="utf-8"))
    return {lang: [str(c).lower() for c in data.get(lang, [])] for lang in ("zh", "en")}


def size(text: str, lang: str) -> int:
    """汉字 in Chinese text, words in English text."""
    return len(_HAN.findall(text)) if lang == "zh" else len(_WORD.findall(text))


def _stems(word: str) -> list[str]:
    w = word.lower().strip("'’")
    out = [w]
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
    ):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            out.append(w[: -len(suffix)] + repl)
    if len(w) > 4 and w[-3:-2] == w[-4:-3] and w.endswith(("ed", "ing")):  # stopped, planning
        out.append(w[:-3] if w.endswith("ed") else w[:-4])
    return out


def has_verb(sentence: str, lang: str) -> bool:
    if lang == "zh":
        import jieba.posseg

        return any(flag.startswith("v") for _, flag in jieba.posseg.cut(sentence))
    verbs = _en_verbs()
    return any(stem in verbs for word in _WORD.findall(sentence) for stem in _stems(word))


def sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = _MARKUP.sub("", line).strip()
        if line:
            out += [s.strip() for s in split_sentences(line) if s.strip()]
    return out


def is_fragment(sentence: str, lang: str) -> bool:
    return size(sentence, lang) < MIN_WORDS[lang] or not has_verb(sentence, lang)


def card_length(card: PrepCard, lang: str, customer: str) -> MetricResult:
    n = size(render_card(card, lang, customer, notes=False), lang)
    budget = CARD_BUDGET[lang]
    unit = "汉字" if lang == "zh" else "words"
    problems = [f"the card has {n} {unit}, more than {budget}"] if n > budget else []
    return _result("card_length", 1.0 if n <= budget else budget / n, problems)


def card_highlights(card: PrepCard) -> MetricResult:
    problems = [f"{len(card.highlights)} highlights, more than {MAX_HIGHLIGHTS}"] if len(card.highlights) > 3 else []
    without = [h.point[:40] for h in card.highlights if not h.proof.strip()]
    problems += [f"highlight without proof: {p!r}" for p in without]
    if not card.highlights:
        problems.append("the card has no highlight")
    ok = len(card.highlights) - len(without)
    return _result("card_highlights", ok / len(card.highlights) if card.highlights else 0.0, problems)


def story_units(story: ExplainResult) -> list[str]:
    return [b for b in (story.today, story.cost_today, story.what_changes, story.proof, story.what_it_means) if b]


def lines(text: str) -> list[str]:
    """The paragraphs and list items of a beat or point, without Markdown markup."""
    return [x for x in (_MARKUP.sub("", line).strip() for line in text.splitlines()) if x]


def fragment_rate(units: Sequence[str], lang: str, skill: str | None = "brief") -> MetricResult:
    """Score 1 − share of fragments among the units' paragraphs and list items (a fragment fails the case).

    A beat, talking point or list item is a fragment when it has no verb or fewer than 8 words / 12 汉字
    ("Control, confidentiality and performance." as a "what changes").
    """
    items = [x for u in units for x in lines(u)]
    bad = [x for x in items if is_fragment(x, lang)]
    problems = [f"fragment: {x[:60]!r}" for x in bad]
    return _result("fragment_rate", 1.0 - len(bad) / len(items) if items else 1.0, problems, skill)


def duplicate_sentences(units: Sequence[str], skill: str | None = "brief") -> MetricResult:
    seen: set[str] = set()
    dups: list[str] = []
    total = 0
    for unit in units:
        for s in sentences(unit):
            key = squash(s).rstrip("。.!！?？").lower()
            if len(key) < 6:
                continue
            total += 1
            if key in seen:
                dups.append(s)
            seen.add(key)
    problems = [f"said twice: {s[:60]!r}" for s in dups]
    return _result("duplicate_sentences", 1.0 - len(dups) / total if total else 1.0, problems, skill)


def _entities(deal: Deal, vendor: VendorProfile | None) -> tuple[list[str], list[set[str]]]:
    """Names matched literally, and the content-token sets of the deal's sentences (pains, goals, constraints)."""
    names = [deal.customer or "", deal.industry or "", *deal.systems, *deal.audience]
    if vendor is not None:
        names += [p.strip() for p in re.split(r"\s+/\s+|(?<=[）)])/\s*", vendor.product)]
    names = [n for n in names if len(n.strip()) >= 2]
    phrases = [*deal.pains, *deal.goals, *deal.constraints.texts()]
    token_sets = [{t for t in tokenize(p) if len(t) >= 2 and not t.isdigit()} for p in phrases]
    return names, [t for t in token_sets if t]


def names_entity(sentence: str, names: list[str], token_sets: list[set[str]]) -> bool:
    lowered = sentence.lower()
    if any(n.lower() in lowered for n in names):
        return True
    tokens = set(tokenize(sentence))
    return any(len(tokens & ts) >= min(2, len(ts)) for ts in token_sets)


def tailoring(card: PrepCard, deal: Deal, vendor: VendorProfile | None = None) -> MetricResult:
    names, token_sets = _entities(deal, vendor)
    units = [card.goal, *[h.point for h in card.highlights], *card.questions, card.next_step]
    all_sentences = [s for u in units for s in sentences(u)]
    named = [s for s in all_sentences if names_entity(s, names, token_sets)]
    share = len(named) / len(all_sentences) if all_sentences else 0.0
    problems = [f"{share:.2f} of the card's sentences name a deal entity (want ≥ 0.6)"] if share < 0.6 else []
    return _result("tailoring", share, problems)


def rep_note_leakage(
    customer: Sequence[str], rep_notes: Sequence[str], lang: str, skill: str | None = "brief"
) -> MetricResult:
    text = "\n".join(customer)
    flat = squash(text).lower()
    leaks = [n for n in rep_notes if len(squash(n)) >= 8 and squash(n).lower() in flat]
    leaks += [f"rep-only phrase {cue!r}" for cue in _cues()[lang] if cue in text.lower()]
    problems = [f"rep note in customer text: {x[:60]!r}" for x in leaks]
    return _result("rep_note_leakage", 0.0 if leaks else 1.0, problems, skill)


def brief_customer_texts(brief: BriefResult) -> list[str]:
    """Everything of a brief the buyer may hear or read: card, talking points, story beats, objection answers."""
    out = [customer_text(brief.card)] if brief.card is not None else []
    out += [p.point for p in brief.talking_points]
    out += story_units(brief.story)
    out += [x for o in brief.objections for x in (o.response, o.question_back)]
    return out


def brief_metrics(brief: BriefResult, deal: Deal, vendor: VendorProfile | None = None) -> list[MetricResult]:
    lang = brief.language
    story = story_units(brief.story)
    notes = [*brief.rep_notes, *brief.story.rep_notes, *(n for o in brief.objections for n in o.rep_notes)]
    out = [
        fragment_rate([*story, *(p.point for p in brief.talking_points)], lang),
        duplicate_sentences([*story, *([customer_text(brief.card)] if brief.card else [])]),
        rep_note_leakage(brief_customer_texts(brief), notes, lang),
    ]
    if brief.card is None:
        return [*out, _result("card_length", 0.0, ["no card"]), _result("card_highlights", 0.0, ["no card"])]
    return [
        card_length(brief.card, lang, brief.customer),
        card_highlights(brief.card),
        tailoring(brief.card, deal, vendor),
        *out,
    ]


def explain_metrics(story: ExplainResult) -> list[MetricResult]:
    lang = story.language
    units = story_units(story)
    return [
        fragment_rate(units, lang, "explain"),
        duplicate_sentences(units, "explain"),
        rep_note_leakage(units, story.rep_notes, lang, "explain"),
    ]
