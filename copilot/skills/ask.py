"""Ask: a grounded, extractive answer with citations, or a clear "the knowledge base has nothing on this".

Relevance is decided on an absolute signal, not on rank: the cosine similarity
of the best passages to the question (Hit.dense), backed by some lexical
overlap unless the similarity is strong. Thresholds were calibrated on clearly
in-domain questions (cases, policies, glossary, playbooks; zh and en) against
out-of-domain ones (weather, recipes, sport, shopping): in-domain questions
scored 0.23 and up with overlap, out-of-domain ones at most 0.20 with overlap
and 0.30 without.

The answer is the sentences of the best passages (in the answer's language)
that match the question best, each followed by a [n] marker of its citation.
A figure the question asserts is checked against the cited passages, and a
request for legal certainty gets an explicit caveat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from copilot.corpus.models import GlossaryEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase
from copilot.results import AskResult, Citation, Notice
from copilot.skills.ask_figures import contradiction
from copilot.skills.passages import Cited, clean_sentences, end_sentence, similarity, squash
from copilot.text.numbers import find_figures
from copilot.text.segment import tokenize
from copilot.wording import Wording

STRONG_DENSE = 0.40
MIN_DENSE = 0.215
SEARCH_K = 8
SCENARIO_K = 5
MAX_PASSAGES = 3
MAX_SENTENCES = 6
PER_DOCUMENT = (3, 2, 2)
SCORE_SHARE = 0.55
SCORE_GAP = 0.25
NEAR_DUPLICATE = 0.6
LEAD_BONUS = 0.5
NAMED_BONUS = 0.3
FIGURE_BONUS = 0.25
MIN_SENTENCE_CHARS = {"zh": 6, "en": 20}
ADVICE_PENALTY = 0.25
SECTION_BONUS = 0.15
RANK_BONUS = (0.1, 0.05, 0.0)

_DATA = Path(__file__).resolve().parent / "data" / "ask.yaml"
_ABBREVIATION_END = re.compile(r"(?:\b[A-Z]|\bArt|\bNo|\be\.g|\bi\.e|\bvs|\bMr|\bSt|\bCo|\bInc|\bLtd)\.$")
_TERMINAL = re.compile(r"[。！.!；;]")
_LEGAL_EN_TOPIC = re.compile(r"\b(legal|legally|lawful|compliant|compliance|admissible|enforceable|binding)\b", re.I)
_LEGAL_EN_CERTAIN = re.compile(
    r"\b(for sure|guarantee[sd]?|definitely|certainly|certain|absolutely|fully|completely|100%|no risk)\b|"
    r"\b(is|are) (it|this|that|they) (legal|lawful|compliant)\b",
    re.I,
)


@dataclass(frozen=True)
class _Data:
    """The skill's data file: corpus headings, question patterns (zh and en)."""

    advice_headings: frozenset[str]
    fact_sections: dict[tuple[str, str], dict[str, str]]
    alias_prefixes: tuple[str, ...]
    patterns: dict[str, re.Pattern[str]]


@cache
def _data() -> _Data:
    raw = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    return _Data(
        advice_headings=frozenset(raw["advice_headings"]),
        fact_sections={(kind, intent): v for kind, by in raw["fact_sections"].items() for intent, v in by.items()},
        alias_prefixes=tuple(raw["alias_prefixes"]),
        patterns={k: re.compile(v, re.I) for k, v in raw["patterns"].items()},
    )


def words(lang: str) -> Wording:
    return Wording("ask", lang)


@dataclass(frozen=True)
class _Sentence:
    text: str
    hit: Hit
    doc_rank: int
    position: int
    score: float


def _content_tokens(text: str) -> set[str]:
    return {t for t in tokenize(text) if not t.replace(".", "").isdigit()}


def _overlap(tokens: set[str], hit: Hit) -> set[str]:
    return tokens & set(tokenize(f"{hit.title_zh} {hit.title_en} {hit.text}"))


def is_relevant(hit: Hit, tokens: set[str]) -> bool:
    """The absolute relevance test: strong similarity, or fair similarity with a shared word."""
    dense = hit.dense or 0.0
    return dense >= STRONG_DENSE or (dense >= MIN_DENSE and bool(_overlap(tokens, hit)))


def _rank_score(hit: Hit, tokens: set[str], named: set[str]) -> float:
    """Order relevant passages: similarity, plus the share of the question's words they hold, a title match,
    and the glossary entry of a term the question names."""
    share = len(_overlap(tokens, hit)) / len(tokens) if tokens else 0.0
    title = bool(tokens & set(tokenize(f"{hit.title_zh} {hit.title_en}")))
    return (hit.dense or 0.0) + 0.25 * share + (0.15 if title else 0.0) + (NAMED_BONUS if hit.doc_id in named else 0.0)


def asks_legal_certainty(question: str) -> bool:
    if _data().patterns["legal_zh"].search(question):
        return True
    return bool(_LEGAL_EN_TOPIC.search(question) and _LEGAL_EN_CERTAIN.search(question))


def _passages_for(
    kb: KnowledgeBase, c: Cited, hit: Hit, question: str, lang: str, define: bool, lead: set[str]
) -> list[Hit]:
    """The passages of one relevant document to draw sentences from, in the answer's language.

    The best passage in the other language is replaced by the same document's
    best passage in `lang`. A question that asks what a glossary term means also
    gets the passage holding its plain-words definition (and that definition
    leads). A passage that is only advice to the rep is joined by the
    document's best passage of facts (outcomes, reasons, key articles).
    """
    out: list[Hit] = []
    passage = hit
    if hit.language != lang:
        other = c.g.passage(hit.doc_id, question)
        passage = other if other is not None and other.language == lang else hit
    doc = kb.doc(hit.doc_id)
    if define and doc is not None and isinstance(doc.entry, GlossaryEntry):
        plain = doc.entry.plain.get(lang)
        definition = c.g.passage(hit.doc_id, plain)
        if definition is not None and squash(plain) in squash(definition.text):
            lead.update(squash(sentence) for sentence in clean_sentences(plain))
            out.append(definition)
    out.append(passage)
    if passage.heading in _data().advice_headings and hit.type in ("case", "policy"):
        intent = "why" if _data().patterns["why"].search(question) else "other"
        facts = c.g.passage(hit.doc_id, _data().fact_sections[(hit.type, intent)][lang])
        if facts is not None and facts.language == lang:
            out.append(facts)
    return out


def _candidates(g: Grounding, question: str, deal: Deal | None) -> list[Hit]:
    # The deal's scenario is added by the filtered search below, not preferred in this one: a question about a
    # named case of another scenario ("What did TradeLens fail at?" for a traceability deal) must still find it.
    hits = g.search(question, k=SEARCH_K)
    if deal is not None:
        hits += g.search(question, k=SCENARIO_K, filters=SearchFilters(scenario=deal.scenario))
    best: dict[str, Hit] = {}
    for hit in hits:
        kept = best.get(hit.doc_id)
        if kept is None or (hit.dense or 0.0) > (kept.dense or 0.0):
            best[hit.doc_id] = hit
    return list(best.values())


def _merge_abbreviations(sentences: list[str]) -> list[str]:
    """Re-join sentences the splitter cut after an abbreviation ("E. coli", "Art. 16")."""
    out: list[str] = []
    for sentence in sentences:
        if out and _ABBREVIATION_END.search(out[-1]):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def _balanced(text: str) -> bool:
    pairs = (("“", "”"), ("「", "」"), ("（", "）"), ("(", ")"), ("《", "》"))
    return all(text.count(a) == text.count(b) for a, b in pairs) and text.count('"') % 2 == 0


def passage_sentences(text: str, lang: str, heading: str = "") -> list[tuple[str, str]]:
    """(heading, sentence) for each statement of a passage that can stand alone in an answer.

    Headings, aliases lines, questions, fragments cut at a quotation or an
    abbreviation and labels ending in a colon are left out.
    """
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
            continue
        if not stripped or stripped.startswith(_data().alias_prefixes):
            continue
        for index, sentence in enumerate(_merge_abbreviations(clean_sentences(stripped))):
            sentence = _data().patterns["answer_prefix"].sub("", sentence).strip()
            fragment = index > 0 and lang == "en" and not sentence[:1].isupper() and sentence[:1] not in "\"“'"
            if (
                len(sentence) < MIN_SENTENCE_CHARS[lang]
                or sentence.endswith((":", "：", "?", "？"))
                or not _balanced(sentence)
                or fragment
                or not _TERMINAL.search(sentence)
            ):
                continue
            out.append((heading, sentence))
    return out


def _sentences(
    kb: KnowledgeBase, question: str, passages: list[tuple[int, Hit]], lang: str, lead: set[str]
) -> list[_Sentence]:
    """Sentences of the passages scored against the question: similarity, plus the share of shared words.

    Advice to the rep (how to use a case, what not to say, the demo script) is
    ranked below statements of fact; `lead` sentences (a glossary definition
    asked for) are ranked first.
    """
    tokens = _content_tokens(question)
    quantity = bool(_data().patterns["quantity"].search(question))
    intent = "why" if _data().patterns["why"].search(question) else "other"
    wanted = {_data().fact_sections[(kind, intent)][lang] for kind in ("case", "policy")}
    if quantity:
        wanted.add(_data().fact_sections[("case", "other")][lang])
    per_passage = [passage_sentences(hit.text, lang, hit.heading) for _, hit in passages]
    flat = [sentence for kept in per_passage for _, sentence in kept]
    sims = similarity(kb, [question], flat)[0] if flat else []
    out: list[_Sentence] = []
    n = 0
    for (rank, hit), kept in zip(passages, per_passage, strict=True):
        for heading, sentence in kept:
            shared = len(tokens & set(tokenize(sentence))) / len(tokens) if tokens else 0.0
            score = float(sims[n]) + 0.2 * shared
            score -= ADVICE_PENALTY if heading in _data().advice_headings else 0.0
            score += LEAD_BONUS if squash(sentence) in lead else 0.0
            score += FIGURE_BONUS if quantity and find_figures(sentence) else 0.0
            score += SECTION_BONUS if heading in wanted else 0.0
            score += RANK_BONUS[rank] if rank < len(RANK_BONUS) else 0.0
            out.append(_Sentence(sentence, hit, rank, n, score))
            n += 1
    return out


def _near_duplicate(a: str, b: str) -> bool:
    """Two sentences that say the same thing (character bigram overlap), e.g. one fact told by two documents."""
    grams_a = {a[i : i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i : i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return a == b
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b)) > NEAR_DUPLICATE


def _select(sentences: list[_Sentence], exclude: _Sentence | None, quantity: bool) -> list[_Sentence]:
    """The best sentences overall, a few per document, none far below the best, in reading order.

    When two documents state the same thing, the better-ranked document's sentence is kept.
    A question about a quantity always gets the best sentence that states a figure.
    """
    unique: list[_Sentence] = []
    for s in sorted(sentences, key=lambda s: (s.doc_rank, -s.score, s.position)):
        if exclude is not None and _near_duplicate(squash(s.text), squash(exclude.text)):
            continue
        twin = next((u for u in unique if _near_duplicate(squash(s.text), squash(u.text))), None)
        if twin is None:
            unique.append(s)
        elif s.score > twin.score:  # keep the better document's wording, with the better score
            unique[unique.index(twin)] = _Sentence(twin.text, twin.hit, twin.doc_rank, twin.position, s.score)
    if not unique:
        return []
    top = max(s.score for s in unique)
    floor = max(top * SCORE_SHARE, top - SCORE_GAP)
    limit = MAX_SENTENCES - (1 if exclude else 0)
    chosen: list[_Sentence] = []
    per_doc: dict[int, int] = {}
    with_figure = [s for s in unique if find_figures(s.text)]
    if quantity and with_figure and exclude is None:
        first = max(with_figure, key=lambda s: (s.score, -s.doc_rank, -s.position))
        chosen.append(first)
        per_doc[first.doc_rank] = 1
    for s in sorted(unique, key=lambda s: (-s.score, s.doc_rank, s.position)):
        if s in chosen:
            continue
        quota = PER_DOCUMENT[s.doc_rank] if s.doc_rank < len(PER_DOCUMENT) else 1
        if len(chosen) >= limit or s.score < floor or per_doc.get(s.doc_rank, 0) >= quota:
            continue
        chosen.append(s)
        per_doc[s.doc_rank] = per_doc.get(s.doc_rank, 0) + 1
    return sorted(chosen, key=lambda s: (s.doc_rank, s.position))


def render_ask(result: AskResult) -> str:
    lang = result.language
    t = words(lang)
    sep = "：" if lang == "zh" else ": "
    quoted = f"「{result.question}」" if lang == "zh" else f"“{result.question}”"
    parts = [f"# {t('title')}", f"**{t('question')}**{sep}{quoted}", f"## {t('answer')}\n{result.answer}"]
    if result.citations:
        lines = "\n".join(f"- [{i}] {c.title}" for i, c in enumerate(result.citations, 1))
        parts.append(f"## {t('sources')}\n{lines}")
    return "\n\n".join(parts) + "\n"


def ask_offline(kb: KnowledgeBase, g: Grounding, question: str, lang: str, deal: Deal | None = None) -> AskResult:
    """Answer `question` from the knowledge base, or say plainly that it holds nothing on it."""
    t = words(lang)
    c = Cited(g)
    tokens = _content_tokens(question)
    relevant = [h for h in _candidates(g, question, deal) if is_relevant(h, tokens)]
    named = {m.entry.id for m in kb.find_terms(question)}
    relevant.sort(key=lambda h: (-_rank_score(h, tokens, named), h.doc_id))
    legal = asks_legal_certainty(question)

    if not relevant:
        answer = t("nothing") + (("" if lang == "zh" else " ") + t("legal") if legal else "")
        result = AskResult(
            language=lang,  # type: ignore[arg-type]
            question=question,
            answer=answer,
            found=False,
            notices=[Notice(kind="no_knowledge", message=t("nothing"))],
        )
        return result.model_copy(update={"text": render_ask(result)})

    definitional = bool(_data().patterns["definition"].search(question))
    passages: list[tuple[int, Hit]] = []
    lead: set[str] = set()
    for rank, hit in enumerate(relevant[:MAX_PASSAGES]):
        for passage in _passages_for(kb, c, hit, question, lang, definitional and hit.doc_id in named, lead):
            if all(p.chunk_id != passage.chunk_id for _, p in passages):
                passages.append((rank, passage))
    scored = _sentences(kb, question, passages, lang, lead)
    correction = contradiction(question, scored)
    chosen = _select(scored, correction[1] if correction else None, bool(_data().patterns["quantity"].search(question)))

    numbers: dict[str, int] = {}
    citations: list[Citation] = []

    def marker(hit: Hit) -> str:
        if hit.chunk_id not in numbers:
            citations.append(c.hit(hit))
            numbers[hit.chunk_id] = len(citations)
        return f"[{numbers[hit.chunk_id]}]"

    glue = "" if lang == "zh" else " "
    pieces: list[str] = []
    if correction is not None:
        figure, sentence = correction
        quote = end_sentence(sentence.text, lang)
        pieces.append(t("correction", figure=figure, sentence=quote) + glue + marker(sentence.hit))
    for s in chosen:
        pieces.append(end_sentence(s.text, lang) + glue + marker(s.hit))
    if not pieces:  # relevant passages without a usable sentence: quote the best passage's opening
        first = passages[0][1]
        pieces.append(end_sentence(first.text.strip().splitlines()[-1], lang) + glue + marker(first))
    answer = (" " if lang == "en" else "").join(pieces)
    if legal:
        answer += ("" if lang == "zh" else " ") + t("legal")

    result = AskResult(
        language=lang,  # type: ignore[arg-type]
        question=question,
        answer=answer,
        found=True,
        citations=citations,
    )
    return result.model_copy(update={"text": render_ask(result)})
