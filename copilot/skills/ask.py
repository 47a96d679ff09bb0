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

from copilot.corpus.models import GlossaryEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase
from copilot.results import AskResult, Citation, Notice
from copilot.skills.passages import Cited, clean_sentences, end_sentence, similarity, squash
from copilot.text.numbers import Figure, find_figures, same_value
from copilot.text.segment import tokenize

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

_ADVICE_HEADINGS = frozenset(
    {
        "谈判中怎么用",
        "How to use this in a conversation",
        "何时不要提",
        "When not to bring it up",
        "对高管这样说",
        "Say it to an executive",
        "演示脚本",
        "Demo script",
    }
)
_ABBREVIATION_END = re.compile(r"(?:\b[A-Z]|\bArt|\bNo|\be\.g|\bi\.e|\bvs|\bMr|\bSt|\bCo|\bInc|\bLtd)\.$")
_ANSWER_PREFIX = re.compile(r"^(?:答|回应|A|Answer)\s*[：:]\s*")
_TERMINAL = re.compile(r"[。！.!；;]")
_DEFINITION = re.compile(
    r"什么是|是什么|什么叫|啥是|是指|的意思|含义|\bwhat (is|are|does)\b|\bwhat's\b|\bdefine\b|\bmeaning\b", re.I
)
_WHY = re.compile(r"为什么|为何|原因|怎么失败|怎么成功|\bwhy\b|\breasons?\b|\bfail", re.I)
_QUANTITY = re.compile(
    r"多少|几[天秒个家张年月次倍]|多久|多长|多大|数量|金额|规模|\bhow (many|much|long|fast|big)\b", re.I
)
# The fact sections of a case or policy, by what the question asks (see the corpus templates).
_FACT_SECTIONS = {
    ("case", "why"): {"zh": "成败原因", "en": "Why it worked or failed"},
    ("case", "other"): {"zh": "量化成果", "en": "Measured outcomes"},
    ("policy", "why"): {"zh": "对交易的影响", "en": "What it means for a deal"},
    ("policy", "other"): {"zh": "关键条款", "en": "Key articles"},
}

_T = {
    "zh": {
        "title": "问答",
        "question": "问题",
        "answer": "回答",
        "sources": "来源",
        "nothing": "知识库里没有关于这个问题的资料，我不做猜测。可以换个问法，或者把相关资料补充进知识库。",
        "correction": "知识库的说法不同：问题里说的是「{figure}」，而资料记载的是：{sentence}",
        "legal": (
            "需要说明：知识库只能提供上面这些公开资料，不能给出法律上的确定结论；"
            "是否合法合规，须由贵方的法律顾问结合具体情况确认。"
        ),
    },
    "en": {
        "title": "Q&A",
        "question": "Question",
        "answer": "Answer",
        "sources": "Sources",
        "nothing": (
            "The knowledge base has nothing on this, so I will not guess. Try asking another way, or add "
            "material on it to the knowledge base."
        ),
        "correction": (
            'The knowledge base says otherwise: the question says "{figure}", but the source records: {sentence}'
        ),
        "legal": (
            "Please note: the knowledge base can only point to the published material above; it cannot give legal "
            "certainty, and your counsel must confirm whether this is lawful and compliant in your specific case."
        ),
    },
}

_LEGAL_EN_TOPIC = re.compile(r"\b(legal|legally|lawful|compliant|compliance|admissible|enforceable|binding)\b", re.I)
_LEGAL_EN_CERTAIN = re.compile(
    r"\b(for sure|guarantee[sd]?|definitely|certainly|certain|absolutely|fully|completely|100%|no risk)\b|"
    r"\b(is|are) (it|this|that|they) (legal|lawful|compliant)\b",
    re.I,
)
_LEGAL_ZH = re.compile(
    r"(保证|确保|一定|肯定|绝对|完全|百分之百|100%|稳)[^，。？?！!]{0,6}(合规|合法|有效|没有?法律风险|没问题)|"
    r"(合规|合法)(吗|么|嘛|不)|有没有法律风险"
)

# Units a figure is stated in, so a figure in the question is compared with figures on the same scale.
_UNITS: dict[str, tuple[str, ...]] = {
    "second": ("秒", "second", "seconds", "sec", "secs", "s"),
    "minute": ("分钟", "minute", "minutes", "min", "mins"),
    "hour": ("小时", "hour", "hours", "hrs", "h"),
    "day": ("天", "日", "个工作日", "工作日", "day", "days"),
    "week": ("周", "星期", "week", "weeks"),
    "month": ("个月", "month", "months"),
    "year": ("年", "year", "years"),
    "percent": ("%", "％", "percent", "per cent"),
    "usd": ("美元", "$", "us$", "usd", "dollars"),
    "cny": ("元", "人民币", "rmb", "yuan", "cny", "¥"),
    "eur": ("欧元", "€", "eur", "euro", "euros"),
    "aud": ("澳元", "a$", "aud"),
}
_UNIT_OF = {alias: unit for unit, aliases in _UNITS.items() for alias in aliases}
_ZH_UNIT_CHARS = sorted((a for a in _UNIT_OF if not a.isascii()), key=len, reverse=True)
_PREFIX_UNITS = ("us$", "a$", "$", "€", "¥", "rmb", "usd", "eur", "aud", "cny")


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
    if _LEGAL_ZH.search(question):
        return True
    return bool(_LEGAL_EN_TOPIC.search(question) and _LEGAL_EN_CERTAIN.search(question))


def _unit(text: str, fig: Figure) -> tuple[str, int, int] | None:
    """The unit a figure is stated in ("2.2秒", "7 days", "US$85m", "33%"), normalised across languages.

    Returns the unit and the span (start, end) of the figure with its unit as written.
    """
    before = text[: fig.start].rstrip().lower()
    end = fig.start + len(fig.text)
    for prefix in _PREFIX_UNITS:
        if before.endswith(prefix):
            return _UNIT_OF[prefix], len(before) - len(prefix), end
    after = text[end:]
    gap = len(after) - len(after.lstrip())
    after = after.lstrip()
    for alias in _ZH_UNIT_CHARS:
        if after.startswith(alias):
            return _UNIT_OF[alias], fig.start, end + gap + len(alias)
    match = re.match(r"(per cent|%|[A-Za-z]+)", after)
    if match:
        word = match.group(1).lower()
        span_end = end + gap + len(match.group(1))
        if word in _UNIT_OF:
            return _UNIT_OF[word], fig.start, span_end
        return (word[:-1] if word.endswith("s") and len(word) > 3 else word), fig.start, span_end
    if after[:1] and not after[:1].isspace() and after[:1] not in "，。？?！!、,.;；:：)）":
        return after[:1], fig.start, end + gap + 1
    return None


def _contradiction(question: str, sentences: list[_Sentence]) -> tuple[str, _Sentence] | None:
    """A figure the question states that the cited passages give differently on the same scale."""
    for fig in find_figures(question):
        claimed = _unit(question, fig)
        if claimed is None:
            continue
        unit, start, end = claimed
        stated = []
        for sentence in sentences:
            for other in find_figures(sentence.text):
                found = _unit(sentence.text, other)
                if found is not None and found[0] == unit and other.value > 0:
                    stated.append((sentence, other))
        if not stated or any(same_value(other.value, fig.value) for _, other in stated):
            continue
        best = max(stated, key=lambda pair: pair[0].score)[0]
        return question[start:end].strip(), best
    return None


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
    if passage.heading in _ADVICE_HEADINGS and hit.type in ("case", "policy"):
        intent = "why" if _WHY.search(question) else "other"
        facts = c.g.passage(hit.doc_id, _FACT_SECTIONS[(hit.type, intent)][lang])
        if facts is not None and facts.language == lang:
            out.append(facts)
    return out


def _candidates(g: Grounding, question: str, deal: Deal | None) -> list[Hit]:
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
        if not stripped or stripped.startswith(("别名：", "Aliases:")):
            continue
        for index, sentence in enumerate(_merge_abbreviations(clean_sentences(stripped))):
            sentence = _ANSWER_PREFIX.sub("", sentence).strip()
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
    quantity = bool(_QUANTITY.search(question))
    intent = "why" if _WHY.search(question) else "other"
    wanted = {_FACT_SECTIONS[(kind, intent)][lang] for kind in ("case", "policy")}
    if quantity:
        wanted.add(_FACT_SECTIONS[("case", "other")][lang])
    per_passage = [passage_sentences(hit.text, lang, hit.heading) for _, hit in passages]
    flat = [sentence for kept in per_passage for _, sentence in kept]
    sims = similarity(kb, [question], flat)[0] if flat else []
    out: list[_Sentence] = []
    n = 0
    for (rank, hit), kept in zip(passages, per_passage, strict=True):
        for heading, sentence in kept:
            shared = len(tokens & set(tokenize(sentence))) / len(tokens) if tokens else 0.0
            score = float(sims[n]) + 0.2 * shared
            score -= ADVICE_PENALTY if heading in _ADVICE_HEADINGS else 0.0
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
    t = _T[lang]
    sep = "：" if lang == "zh" else ": "
    quoted = f"「{result.question}」" if lang == "zh" else f"“{result.question}”"
    parts = [f"# {t['title']}", f"**{t['question']}**{sep}{quoted}", f"## {t['answer']}\n{result.answer}"]
    if result.citations:
        lines = "\n".join(f"- [{i}] {c.title}" for i, c in enumerate(result.citations, 1))
        parts.append(f"## {t['sources']}\n{lines}")
    return "\n\n".join(parts) + "\n"


def ask_offline(kb: KnowledgeBase, g: Grounding, question: str, lang: str, deal: Deal | None = None) -> AskResult:
    """Answer `question` from the knowledge base, or say plainly that it holds nothing on it."""
    t = _T[lang]
    c = Cited(g)
    tokens = _content_tokens(question)
    relevant = [h for h in _candidates(g, question, deal) if is_relevant(h, tokens)]
    named = {m.entry.id for m in kb.find_terms(question)}
    relevant.sort(key=lambda h: (-_rank_score(h, tokens, named), h.doc_id))
    legal = asks_legal_certainty(question)

    if not relevant:
        answer = t["nothing"] + (("" if lang == "zh" else " ") + t["legal"] if legal else "")
        result = AskResult(
            language=lang,  # type: ignore[arg-type]
            question=question,
            answer=answer,
            found=False,
            notices=[Notice(kind="no_knowledge", message=t["nothing"])],
        )
        return result.model_copy(update={"text": render_ask(result)})

    definitional = bool(_DEFINITION.search(question))
    passages: list[tuple[int, Hit]] = []
    lead: set[str] = set()
    for rank, hit in enumerate(relevant[:MAX_PASSAGES]):
        for passage in _passages_for(kb, c, hit, question, lang, definitional and hit.doc_id in named, lead):
            if all(p.chunk_id != passage.chunk_id for _, p in passages):
                passages.append((rank, passage))
    scored = _sentences(kb, question, passages, lang, lead)
    correction = _contradiction(question, scored)
    chosen = _select(scored, correction[1] if correction else None, bool(_QUANTITY.search(question)))

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
        pieces.append(t["correction"].format(figure=figure, sentence=quote) + glue + marker(sentence.hit))
    for s in chosen:
        pieces.append(end_sentence(s.text, lang) + glue + marker(s.hit))
    if not pieces:  # relevant passages without a usable sentence: quote the best passage's opening
        first = passages[0][1]
        pieces.append(end_sentence(first.text.strip().splitlines()[-1], lang) + glue + marker(first))
    answer = (" " if lang == "en" else "").join(pieces)
    if legal:
        answer += ("" if lang == "zh" else " ") + t["legal"]

    result = AskResult(
        language=lang,  # type: ignore[arg-type]
        question=question,
        answer=answer,
        found=True,
        citations=citations,
    )
    return result.model_copy(update={"text": render_ask(result)})
