"""What a rep's turn does, read by code: questions, links to the buyer's pains, jargon, proof, figures, next step.

Every rubric score and every offline buyer reaction is decided from these signals. Sentence
meaning (a next step proposed, a limit of fit stated, an empty value claim) comes from the one
shared classifier over evals/datasets/understanding/rep_moves.jsonl; the rest is structural:
question marks, glossary matches (KnowledgeBase.find_terms), case names taken from the corpus
titles, figures checked against the deal, the vendor profile, the persona and the named cases.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from copilot.knowledge import KnowledgeBase, TermMatch
from copilot.skills.figures import number_bank
from copilot.text.chunking import split_sentences
from copilot.text.numbers import find_figures
from copilot.text.segment import tokenize

MOVES = "rep_moves"
MIN_MOVE_CONFIDENCE = 0.55
"""How sure a next step / limit of fit / empty claim must be (negation is part of these moves)."""
MARKERS = Path(__file__).resolve().parent / "data" / "markers.yaml"
_QUESTION_END = re.compile(r"[?？]\s*$")


class TurnSignals(BaseModel):
    """What one rep turn contains; each list holds the quoted sentences (or names) that show it."""

    text: str
    questions: list[str] = Field(default_factory=list)
    pain_links: list[str] = Field(default_factory=list)
    jargon: list[str] = Field(default_factory=list, description="glossary terms used without plain words")
    explained: list[str] = Field(default_factory=list, description="glossary terms explained where used")
    cases: list[str] = Field(default_factory=list, description="corpus case ids the rep named")
    case_quotes: list[str] = Field(default_factory=list)
    cited_figures: list[str] = Field(default_factory=list, description="figures found in a named case")
    invented: list[str] = Field(default_factory=list, description="figures found in no source")
    invented_quotes: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    fit_limits: list[str] = Field(default_factory=list)
    empty_claims: list[str] = Field(default_factory=list)
    assertions: list[str] = Field(default_factory=list, description="statements about the buyer's pains")

    @property
    def proof(self) -> bool:
        return bool(self.cases)

    @property
    def claims(self) -> bool:
        """The turn asserts something (not only questions or courtesy)."""
        return bool(self.empty_claims or self.assertions or self.invented or self.cited_figures)

    @property
    def vague(self) -> bool:
        concrete = self.pain_links or self.cases or self.next_steps or self.fit_limits or self.questions
        return not concrete


@cache
def _data() -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(MARKERS.read_text(encoding="utf-8"))
    return data


@cache
def _name_split() -> re.Pattern[str]:
    split = _data()["case_name_split"]
    assert isinstance(split, str)
    return re.compile(split)


def _markers() -> dict[str, list[str]]:
    explain = _data()["explain"]
    assert isinstance(explain, dict)
    return {lang: [m.lower() for m in words] for lang, words in explain.items()}


def _words(key: str) -> set[str]:
    values = _data()[key]
    assert isinstance(values, list)
    return {str(v).lower() for v in values}


def case_names(kb: KnowledgeBase) -> dict[str, str]:
    """Lower-cased name -> case id: the parts of each case title before its colon ("Walmart", "沃尔玛", "TradeLens")."""
    found = getattr(kb, "_practice_case_names", None)
    if found is not None:
        return dict(found)
    names: dict[str, str] = {}
    for doc in kb.documents.values():
        if doc.meta.type != "case":
            continue
        for title in (doc.meta.title_zh, doc.meta.title_en):
            head = re.split(r"[：:]", title, maxsplit=1)[0]
            for part in _name_split().split(head):
                part = part.strip(" 　\"'")
                if len(part) >= 3 and not part.isdigit() and part.lower() not in _words("not_case_names"):
                    names.setdefault(part.lower(), doc.id)
    kb._practice_case_names = names  # type: ignore[attr-defined]  # cached on the knowledge base it came from
    return dict(names)


def _everyday(match: TermMatch) -> bool:
    """A term every buyer knows, or an acronym's letters in lower case ("did" is not DID)."""
    surface = match.surface
    if surface.lower() in _words("everyday"):
        return True
    titles = " ".join(match.entry.names())
    return surface.isascii() and surface.islower() and len(surface) <= 4 and surface.upper() in titles


def _overlap(sentence: str, targets: list[str]) -> bool:
    words = {t for t in tokenize(sentence) if len(t) > 1}
    for target in targets:
        want = {t for t in tokenize(target) if len(t) > 1}
        if want and len(words & want) >= min(2, len(want)):
            return True
    return False


def _label(kb: KnowledgeBase, sentence: str) -> str | None:
    result = kb.understanding.classify(MOVES, sentence)
    return None if result.unsure or result.confidence < MIN_MOVE_CONFIDENCE else result.label


def read_turn(kb: KnowledgeBase, text: str, lang: str, pains: list[str], sources: list[str]) -> TurnSignals:
    """The signals of one rep turn. `pains`: the buyer's pains and goals; `sources`: texts whose figures may be used."""
    signals = TurnSignals(text=text)
    markers = _markers().get(lang, []) + _markers().get("en" if lang == "zh" else "zh", [])
    names = case_names(kb)
    named_texts: list[str] = []
    for sentence in split_sentences(text) or [text]:
        lowered = sentence.lower()
        if _QUESTION_END.search(sentence):
            signals.questions.append(sentence)
        if _overlap(sentence, pains):
            signals.pain_links.append(sentence)
        for match in kb.find_terms(sentence):
            if _everyday(match):
                continue
            explains = any(m in lowered for m in markers)
            bucket = signals.explained if explains else signals.jargon
            if match.surface not in bucket:
                bucket.append(match.surface)
        for name, case_id in names.items():
            if name in lowered and case_id not in signals.cases:
                signals.cases.append(case_id)
                signals.case_quotes.append(sentence)
                doc = kb.doc(case_id)
                if doc is not None:
                    named_texts += [doc.meta.title_zh, doc.meta.title_en, *doc.sections.values()]
        label = _label(kb, sentence)
        question = bool(_QUESTION_END.search(sentence))
        if label == "next_step":
            signals.next_steps.append(sentence)
        elif label == "fit_limit" and not question:
            signals.fit_limits.append(sentence)
        elif label == "value_claim" and not question:
            signals.empty_claims.append(sentence)
        elif not question and sentence in signals.pain_links:
            signals.assertions.append(sentence)
    known = {j.lower() for j in signals.explained}
    signals.jargon = [j for j in signals.jargon if j.lower() not in known]  # explained elsewhere in the turn
    own = number_bank(sources)
    cases_bank = number_bank(named_texts)
    for sentence in split_sentences(text) or [text]:
        if sentence in signals.next_steps:
            continue  # a date or duration proposed for the next meeting is not a claim
        for figure in find_figures(sentence):
            if own.has_figure(figure):
                continue
            if cases_bank.has_figure(figure):
                signals.cited_figures.append(figure.text)
            else:
                signals.invented.append(figure.text)
                if sentence not in signals.invented_quotes:
                    signals.invented_quotes.append(sentence)
    return signals
