"""Does this problem need a blockchain? An honest, offline verdict from the deal's own words.

The verdict follows an explicit decision flow (copilot.skills.fit_questions): nine questions, each
answered yes / no / unknown from a sentence of the deal (by meaning: the shared text classifier),
then a rule turns the answers into fit | partial | not_fit and an architecture. An unknown answer
becomes a discovery question for the rep, with how the verdict would change.

Reasons never contradict the verdict: they are the answers the verdict rests on, quoted from the
deal, and the scenario playbook's fit criteria the deal resembles (by sentence embeddings). A
playbook "poor fit" case resembling a fit or partial deal is not hidden: it is stated as a
counterpoint and weighed against the answers. Partial and not_fit verdicts cite the matching
"wrong tool" risks and the ASX CHESS case; a not_fit verdict offers the playbook's alternative.
Every sentence shown comes from prompts/offline/<lang>/fit.yaml (copilot.wording).
"""

from __future__ import annotations

import re

import numpy as np

from copilot.corpus.models import Bilingual, RiskEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import Answer, FitQuestion, FitQuestionKey, FitResult, SkillResult
from copilot.skills.fit_questions import (
    CLASSIFIER,
    FIT_NEEDS,
    QUESTION_KEYS,
    Verdict,
    answer_all,
    answers_of,
    architecture_for,
    contradictions,
    deal_sentences,
    decide,
    firing,
    if_answered,
)
from copilot.skills.passages import Cited, sources_section
from copilot.text.segment import tokenize
from copilot.wording import Wording

ASX_CASE = "case-asx-chess"
CRITERION_SIMILARITY = 0.6
"""A deal sentence this close (cosine) to a playbook fit criterion makes the criterion a reason."""
_RISK_FOR: dict[tuple[FitQuestionKey, Answer], str] = {
    ("multiple_writers", "no"): "risk-wrong-tool-single-writer",
    ("single_issuer", "yes"): "risk-wrong-tool-single-writer",
    ("shared_state", "no"): "risk-wrong-tool-no-tamper-evidence-need",
    ("trust_gap", "no"): "risk-wrong-tool-no-tamper-evidence-need",
    ("trust_gap", "unknown"): "risk-wrong-tool-no-tamper-evidence-need",
    ("trusted_operator", "yes"): "risk-wrong-tool-trusted-central-operator",
    ("trusted_operator", "unknown"): "risk-wrong-tool-trusted-central-operator",
    ("high_frequency", "yes"): "risk-wrong-tool-high-frequency-private-data",
    ("large_files", "yes"): "risk-wrong-tool-high-frequency-private-data",
}


def answer_questions(kb: KnowledgeBase, deal: Deal, w: Wording) -> list[FitQuestion]:
    """The nine questions answered from the deal (unknown ones with a discovery question)."""
    classifier = kb.understanding.classifier(CLASSIFIER)
    evidence = answer_all(deal, classifier.classify, classifier.encode)
    answers: dict[FitQuestionKey, Answer] = {k: (e.answer if e else "unknown") for k, e in evidence.items()}
    out: list[FitQuestion] = []
    for key in QUESTION_KEYS:
        found = evidence[key]
        discovery = changes = None
        if found is None:
            discovery = w(f"discovery.{key}")
            if_yes, if_no = if_answered(answers, key)
            changes = (
                w("changes.same", verdict=w(f"verdict_short.{if_yes}"))
                if if_yes == if_no
                else w("changes.differ", if_yes=w(f"verdict_short.{if_yes}"), if_no=w(f"verdict_short.{if_no}"))
            )
        out.append(
            FitQuestion(
                key=key,
                question=w(f"question.{key}"),
                answer=answers[key],
                evidence=found.sentence if found and found.sentence else None,
                confidence=found.confidence if found else 0.0,
                discovery=discovery,
                changes=changes,
            )
        )
    return out


def _reason_order(verdict: Verdict, answers: dict[FitQuestionKey, Answer]) -> list[FitQuestionKey]:
    """The answered questions a reason is given for, most decisive first; none that argue against the verdict."""
    if verdict == "not_fit":
        return firing(answers)
    keys: list[FitQuestionKey] = [k for k, v in FIT_NEEDS.items() if answers.get(k) == v]
    keys += [k for k in ("third_party_verification", "writers_known") if answers.get(k) != "unknown"]
    if verdict == "partial":
        keys += [k for k, v in FIT_NEEDS.items() if answers.get(k) not in (v, "unknown")]
        keys += ["large_files"] if answers.get("large_files") == "yes" else []
    return list(dict.fromkeys(keys))


def _closest_criterion(kb: KnowledgeBase, sentences: list[str], items: list[Bilingual], lang: str) -> Bilingual | None:
    """The playbook criterion a deal sentence is closest to in meaning, if close enough."""
    if not sentences or not items:
        return None
    encode = kb.understanding.encode
    a = encode(sentences)
    b = encode([item.get(lang) for item in items])
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    sims = (a @ b.T).max(axis=0)
    best = int(np.argmax(sims))
    return items[best] if float(sims[best]) >= CRITERION_SIMILARITY else None


def fit_offline(kb: KnowledgeBase, g: Grounding, deal: Deal) -> FitResult:
    lang = deal.lang
    w = Wording("fit", lang)
    playbook = kb.playbook(deal.scenario)
    src = Cited(g, deal.text())
    questions = answer_questions(kb, deal, w)
    answers = answers_of(questions)
    verdict = decide(answers)
    architecture = architecture_for(answers, verdict)
    by_key = {q.key: q for q in questions}

    fit_lines = [c.get(lang) for c in (*playbook.fit.good_fit, *playbook.fit.poor_fit)]
    src.cite_doc(playbook.id, "\n".join([*fit_lines, playbook.fit.alternative.get(lang)]))

    reasons: list[str] = []
    for key in _reason_order(verdict, answers):
        reasons.append(w(f"reason.{key}.{answers[key]}", evidence=by_key[key].evidence or ""))
    if verdict == "partial":
        reasons += [w("unknown", question=by_key[k].question) for k in FIT_NEEDS if answers[k] == "unknown"]

    sentences = deal_sentences(deal)
    counterpoints: list[str] = []
    good = _closest_criterion(kb, sentences, playbook.fit.good_fit, lang) if verdict != "not_fit" else None
    poor = _closest_criterion(kb, sentences, playbook.fit.poor_fit, lang)
    if good is not None and (text := src.ground(playbook.id, good.get(lang))):
        reasons.append(w("good", text=text))
    if poor is not None and (text := src.ground(playbook.id, poor.get(lang))):
        if verdict == "not_fit":
            reasons.append(w("poor", text=text))
        else:  # stated and weighed, never silently kept under a verdict it argues against
            decisive = [k for k in FIT_NEEDS if answers[k] == FIT_NEEDS[k]]
            shown = w("join").join(
                w("weighed_answer", topic=w(f"one_line_key.{k}"), answer=w(f"answer.{answers[k]}")) for k in decisive
            )
            counterpoints.append(w("weighed_poor", text=text, answers=shown or w("answer.unknown")))

    if verdict != "fit":
        cautions = _risk_reasons(kb, src, answers, w, lang)
        asx_query = w("asx_query")  # what to look for in the ASX CHESS case
        citation = src.cite_doc(ASX_CASE, asx_query)
        if citation is not None:
            sentence = _best_sentence(src.g.hits[citation.chunk_id].text, asx_query, lang)
            cautions.append(w("asx", title=citation.title, text=sentence))
        if verdict == "not_fit":
            reasons += cautions
        else:  # what would make it not a fit, weighed against the answers still open
            open_keys = w("join").join(w(f"one_line_key.{k}") for k in _open_keys(answers))
            counterpoints += [w("weighed_caution", text=c, open=open_keys) for c in cautions]

    alternative = src.ground(playbook.id, playbook.fit.alternative.get(lang)) if verdict == "not_fit" else None
    result = FitResult(
        language="zh" if lang == "zh" else "en",
        verdict=verdict,
        reasons=[r for r in reasons if not src.unsupported(r)],
        alternative=alternative,
        questions=questions,
        architecture=architecture,
        architecture_text=w(f"architecture.{architecture}"),
        counterpoints=counterpoints,
        one_line=one_line(verdict, answers, architecture, w),
        citations=list(src.citations),
    )
    confirm = src.ground_all(playbook.id, [c.get(lang) for c in playbook.fit.good_fit]) if verdict == "partial" else []
    result.text = render_fit(result, deal, confirm)
    return result


def one_line(verdict: Verdict, answers: dict[FitQuestionKey, Answer], architecture: str, w: Wording) -> str:
    """The verdict in one line, for the brief's card."""
    arch = w(f"one_line_arch.{architecture}")
    if verdict == "fit":
        return w("one_line.fit", why=w("one_line_fact.fit"), architecture=arch)
    if verdict == "not_fit":
        why = w("join").join(w(f"one_line_fact.{k}") for k in firing(answers))
        return w("one_line.not_fit", why=why, architecture=arch)
    return w(
        "one_line.partial", open=w("join").join(w(f"one_line_key.{k}") for k in _open_keys(answers)), architecture=arch
    )


def _open_keys(answers: dict[FitQuestionKey, Answer]) -> list[FitQuestionKey]:
    """What keeps a partial verdict from being a fit."""
    keys: list[FitQuestionKey] = [k for k, v in FIT_NEEDS.items() if answers.get(k) != v]
    return keys + (["large_files"] if answers.get("large_files") == "yes" else [])


def _risk_reasons(
    kb: KnowledgeBase, src: Cited, answers: dict[FitQuestionKey, Answer], w: Wording, lang: str
) -> list[str]:
    """The "wrong tool" risks the answers point to, each as a reason with the gist of the risk."""
    fired = firing(answers)
    if fired:  # not a fit: the risks of the answers that decided it
        pairs = [(k, answers[k]) for k in fired] + ([("trust_gap", "no")] if answers.get("trust_gap") == "no" else [])
    else:  # partial: the risks of what is still open
        pairs = [(k, answers[k]) for k in (*FIT_NEEDS, "large_files")]
    wanted = [_RISK_FOR[p] for p in pairs if p in _RISK_FOR] or [_RISK_FOR[("trusted_operator", "unknown")]]
    by_id = {r.id: r for r in kb.risks}
    out: list[str] = []
    risks: list[RiskEntry] = []
    for risk_id in dict.fromkeys(wanted):
        risk = by_id.get(risk_id)
        if risk is not None and risk not in risks:
            risks.append(risk)
    for risk in risks:
        title, description = risk.title(lang), risk.description.get(lang)
        if src.cite_doc(risk.id, f"{title}\n{description}") is None:
            continue
        gist = src.ground(risk.id, _gist(description, lang))
        if gist:
            out.append(w("risk", title=title, text=gist))
    return out


def _sentences(text: str) -> list[str]:
    """Sentences of a passage or field, headings and list marks removed ("Art. 11" does not end a sentence)."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"^(?:[-*+]\s+|\d+[.)]\s+)", "", line.strip())
        if not line or line.startswith("#"):
            continue
        out += [p.strip() for p in re.split(r"(?<=[。！？])|(?<=[.!?])\s+(?=[A-Z“\"(])", line) if p and p.strip()]
    return out


def _words(text: str) -> set[str]:
    return {t for t in tokenize(text) if not t.isdigit() and (t.isascii() or len(t) >= 2)}


def _best_sentence(text: str, query: str, lang: str) -> str:
    """The sentence of a passage that shares most words with `query`, ending as a sentence."""
    want = _words(query)
    best, best_overlap = "", -1
    for sentence in _sentences(text):
        overlap = len(want & _words(sentence))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    best = best.rstrip("；;，, ")
    if best and best[-1] not in "。！？.!?”":
        best += "。" if lang == "zh" else "."
    return best


def _gist(description: str, lang: str) -> str:
    """The opening of a description: its first sentence, and the second when the first is short."""
    sentences = _sentences(description)
    short = 60 if lang == "zh" else 120
    head = sentences[:2] if sentences and len(sentences[0]) < short else sentences[:1]
    return ("" if lang == "zh" else " ").join(head)


def _question_rows(result: FitResult, w: Wording) -> list[str]:
    rows = [w("table.header"), w("table.rule")]
    for q in result.questions:
        evidence = w("quote", w=q.evidence) if q.evidence else w("table.no_evidence")
        rows.append(f"| {q.question} | {w(f'answer.{q.answer}')} | {evidence.replace('|', '/')} |")
    return rows


def _differ(w: Wording) -> set[str]:
    """The `changes` texts of an unknown answer that would change the verdict."""
    short = {v: w(f"verdict_short.{v}") for v in ("fit", "partial", "not_fit")}
    return {w("changes.differ", if_yes=short[a], if_no=short[b]) for a in short for b in short if a != b}


def render_fit(result: FitResult, deal: Deal, confirm: list[str]) -> str:
    """Markdown: verdict, the questions with answers and evidence, reasons, weighed counterpoints,
    the architecture or what to offer instead, what to ask, sources."""
    w = Wording("fit", result.language)
    lines = [w("title", customer=deal.who()), "", f"**{w(f'verdict.{result.verdict}')}**", ""]
    if result.one_line:
        lines += [result.one_line, ""]
    if result.questions:
        lines += [w("heading.questions"), "", *_question_rows(result, w), ""]
    lines += [w("heading.reasons"), *[f"- {r}" for r in result.reasons]]
    if result.counterpoints:
        lines += ["", w("heading.weighed"), *[f"- {c}" for c in result.counterpoints]]
    unknown = [q for q in result.questions if q.answer == "unknown" and q.discovery and q.changes in _differ(w)]
    if unknown:
        lines += ["", w("heading.discovery"), *[f"- {q.discovery} ({q.changes})" for q in unknown]]
    if confirm:
        lines += ["", w("heading.confirm"), *[f"- {c}" for c in confirm]]
    if result.architecture_text and result.verdict != "not_fit":
        text = result.architecture_text
        lines += ["", w("heading.architecture"), text if result.verdict == "fit" else w("architecture_if", text=text)]
    if result.alternative:
        lines += ["", w("heading.alternative"), result.alternative]
        if result.architecture_text:
            lines.append(result.architecture_text)
    lines += ["", sources_section(result.citations, result.language, level=3)]
    return "\n".join(lines).strip() + "\n"


def decision_text(fit: FitResult) -> str:
    """The decision a model narrates (its task input): verdict, architecture, each answer with its evidence.

    Taken from the offline result as composed (the code's decision), so the questions are answered once a call.
    """
    lines = [f"verdict: {fit.verdict} (decided; do not change it)", f"architecture: {fit.architecture}"]
    lines += [f"- {q.key}: {q.answer}" + (f" — {q.evidence}" if q.evidence else "") for q in fit.questions]
    return "\n".join(lines)


def fit_problems(result: SkillResult, kb: KnowledgeBase) -> list[str]:
    """A model's fit narration checked against the code's decision (verdict and answers): see `contradictions`.

    In LLM mode the model is told the decision (`decision_text`, its task input) and only narrates it; an
    answer whose verdict or reasons contradict the decision is rejected and the offline result shown.
    """
    if not isinstance(result, FitResult) or result.mode != "llm":
        return []
    return contradictions(result, kb.understanding.classifier(CLASSIFIER).classify)
