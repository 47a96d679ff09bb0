"""Objection: from the buyer's words to the concern behind them, a grounded response, proof and a question back.

The concern is one key of the concern taxonomy, decided by the one text classifier
(`kb.understanding.classify("objections", text)`: embedder + BM25 kNN over the labelled
examples in evals/datasets/understanding/objections.jsonl), never by keyword lists. Below the
classifier's confidence floor the result says it is unsure and asks a clarifying question.

The response is the closest answer from the playbooks' objection lists (the deal's own
playbook and the same concern preferred), compared by the retriever's embedder; when no playbook
objection is close enough it is built from the mitigations of the closest risk of the concern's
categories. A sentence ties it to the deal. Proof is the documents the answer and the risk cite;
the question back is the concern's own question, in the deal's terms. All wording comes from
prompts/offline/<lang>/objection.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from copilot.corpus.models import Objection, PlaybookEntry, RiskEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.index.models import SearchFilters
from copilot.knowledge import KnowledgeBase
from copilot.results import ObjectionResult
from copilot.skills.concerns import concerns
from copilot.skills.notes import split_rep_only
from copilot.skills.passages import Cited, closing_parts, end_sentence, lower_first, similarity
from copilot.text.injection import drop_instruction_sentences
from copilot.text.lang import detect_language
from copilot.understand import Classification, Understanding
from copilot.wording import Wording

RISK_K = 8
SAME_CONCERN_BONUS = 0.1
OWN_PLAYBOOK_BONUS = 0.1
MATCH_SAME_CONCERN = 0.5
MATCH_ANY = 0.7
MAX_MITIGATIONS = 2
MAX_EVIDENCE = 2
DATASET = "objections"


def words(lang: str) -> Wording:
    return Wording("objection", lang)


def concern_keys() -> list[str]:
    return list(concerns())


def concern_label(concern: str, lang: str) -> str:
    return concerns()[concern].label.get(lang)


def concern_description(concern: str, lang: str) -> str:
    return concerns()[concern].description.get(lang)


@dataclass(frozen=True)
class _Candidate:
    playbook: PlaybookEntry
    objection: Objection
    similarity: float
    score: float


def classify(kb: KnowledgeBase, text: str) -> Classification:
    """The concern behind an objection, from the labelled examples (with its confidence)."""
    return kb.understanding.classify(DATASET, text)


def _concern_of(kb: KnowledgeBase, objection: Objection) -> str:
    return _concern_of_text(kb.understanding, objection.objection.en)


@lru_cache(maxsize=1024)
def _concern_of_text(understanding: Understanding, text: str) -> str:
    """The concern of a playbook objection (cached: every objection call compares with all of them)."""
    return understanding.classify(DATASET, text).label


def _match(kb: KnowledgeBase, deal: Deal, objection: str, concern: str) -> _Candidate | None:
    """The playbook objection closest to the buyer's words, if it is close enough to answer them."""
    pairs = [(p, o) for p in sorted(kb.playbooks.values(), key=lambda p: p.scenario) for o in p.objections]
    if not pairs:
        return None
    said_in = detect_language(objection, default=deal.lang)  # the playbooks hold every objection in both
    sims = similarity(kb, [objection], [o.objection.get(said_in) for _, o in pairs])[0]
    best: _Candidate | None = None
    for i, (playbook, candidate) in enumerate(pairs):
        sim = float(sims[i])
        if sim < MATCH_SAME_CONCERN:
            continue
        same = _concern_of(kb, candidate) == concern
        score = sim + (SAME_CONCERN_BONUS if same else 0.0)
        score += OWN_PLAYBOOK_BONUS if playbook.scenario == deal.scenario else 0.0
        if (sim >= MATCH_ANY or same) and (best is None or score > best.score):
            best = _Candidate(playbook, candidate, sim, score)
    return best


def _closest_risk(c: Cited, kb: KnowledgeBase, deal: Deal, objection: str, concern: str, lang: str) -> RiskEntry | None:
    """The risk of the concern's categories closest to the objection (the deal's scenario first)."""
    risks = {r.id: r for r in kb.risks}
    query = f"{objection} {concern_label(concern, lang)} {concern_description(concern, lang)}"
    found: list[RiskEntry] = []
    for filters in (SearchFilters(type="risk", scenario=deal.scenario), SearchFilters(type="risk")):
        for hit in c.g.search(query, k=RISK_K, filters=filters):
            risk = risks.get(hit.doc_id)
            if risk is not None and risk not in found:
                found.append(risk)
    for category in concerns()[concern].risk_categories:
        for risk in found:
            if risk.category == category:
                return risk
    return None


def _deal_vars(deal: Deal, lang: str) -> dict[str, str]:
    w = words(lang)
    return {"customer": deal.who(lang), "system": deal.systems[0] if deal.systems else w("default_system")}


def _response(
    kb: KnowledgeBase, c: Cited, deal: Deal, objection: str, concern: str, lang: str
) -> tuple[str, list[str], _Candidate | None]:
    """The answer (a playbook's or built from the closest risk), its proof documents, and the match."""
    inputs = [objection, deal.text()]
    matched = _match(kb, deal, objection, concern)
    risk = _closest_risk(c, kb, deal, objection, concern, lang)
    proof: list[str] = []
    response = ""
    if matched is not None:
        answer = matched.objection.answer.get(lang)
        response = c.grounded(matched.playbook.id, answer, inputs) or ""
        for doc_id in matched.objection.proof:
            if c.doc(doc_id, f"{objection} {answer}") is not None and doc_id not in proof:
                proof.append(doc_id)
    if risk is not None:
        if not response:
            kept = [m for m in (c.grounded(risk.id, m.get(lang), inputs) for m in risk.mitigations) if m]
            kept = [end_sentence(m, lang) for m in kept[:MAX_MITIGATIONS]]
            if kept:
                joined = "".join(kept) if lang == "zh" else " ".join([lower_first(kept[0], lang), *kept[1:]])
                response = words(lang)("fallback", risk=risk.title(lang), mitigations=joined)
        else:
            c.doc(risk.id, objection)
        for doc_id in risk.evidence[:MAX_EVIDENCE]:
            if doc_id not in proof and c.doc(doc_id, f"{objection} {risk.title(lang)}") is not None:
                proof.append(doc_id)
    if not response:
        response = end_sentence(concern_description(concern, lang), lang)
    return response, proof, matched


def _question_back(concern: str, deal: Deal, lang: str) -> str:
    """The concern's question in the deal's terms (wording), else the taxonomy's own question."""
    w = words(lang)
    if w.has(f"question.{concern}"):
        return w(f"question.{concern}", **_deal_vars(deal, lang))
    return concerns()[concern].question_back.get(lang)


def render_objection(result: ObjectionResult, kb: KnowledgeBase) -> str:
    lang = result.language
    w = words(lang)
    sep = "：" if lang == "zh" else ": "
    quoted = f"「{result.objection}」" if lang == "zh" else f"“{result.objection}”"
    parts = [
        f"# {w('heading.title')}",
        f"**{w('heading.said')}**{sep}{quoted}",
        f"## {w('heading.concern')}\n{result.concern}",
        f"## {w('heading.response')}\n{result.response}",
    ]
    proof = "\n".join(f"- {kb.title(doc_id, lang)}" for doc_id in result.proof)
    if proof:
        parts.append(f"## {w('heading.proof')}\n{proof}")
    parts.append(f"## {w('heading.question')}\n{result.question_back}")
    parts += closing_parts(result.rep_notes, w("heading.rep_notes"), result.citations, lang)
    return "\n\n".join(parts) + "\n"


def objection_offline(kb: KnowledgeBase, g: Grounding, deal: Deal, objection: str, lang: str) -> ObjectionResult:
    """Answer a buyer's objection with the concern behind it, a grounded response, proof and a question back."""
    w = words(lang)
    c = Cited(g)
    found = classify(kb, objection)
    keys = concern_keys()
    concern = found.label if found.label in keys else keys[0]
    ranked = sorted(found.scores.items(), key=lambda kv: -kv[1])
    other = next((k for k, _ in ranked if k != concern and k in keys), keys[-1])
    label, other_label = concern_label(concern, lang), concern_label(other, lang)
    response, proof, _ = _response(kb, c, deal, objection, concern, lang)
    glue = "" if lang == "zh" else " "
    tie = w(f"tie.{concern}", **_deal_vars(deal, lang)) if w.has(f"tie.{concern}") else ""
    notes: list[str] = []
    if found.unsure:
        concern_text = w("unsure_line", label=label, other=other_label)
        question = w(
            "clarify",
            objection=_first_sentence(drop_instruction_sentences(objection).strip() or objection),
            label=label,
            other=other_label,
            label_lower=lower_first(label, lang),
            other_lower=lower_first(other_label, lang),
        )
        notes += [w("note_unsure"), w("unsure_response")]
    else:
        concern_text = w("concern_line", label=label, description=concern_description(concern, lang))
        response = glue.join(p for p in (response, tie) if p)
        question = _question_back(concern, deal, lang)
    notes.append(w("note_angle", angle=concerns()[concern].response_angle.get(lang)))
    response, inline = split_rep_only(response, w.all("rep_only_markers"), lang)
    notes += inline

    result = ObjectionResult(
        language=lang,  # type: ignore[arg-type]
        objection=objection,
        concern_class=concern,
        confidence=round(found.confidence, 3),
        unsure=found.unsure,
        concern=concern_text,
        response=response,
        proof=proof,
        question_back=question,
        citations=c.citations,
        rep_notes=notes,
    )
    return result.model_copy(update={"text": render_objection(result, kb)})


def _first_sentence(text: str) -> str:
    """The buyer's first sentence: a clarifying question restates what they said, never a whole paste."""
    return re.split(r"(?<=[。！？!?.])\s*", text.strip(), maxsplit=1)[0]
