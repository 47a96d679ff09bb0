"""The fit check's decision flow: nine questions answered from the deal's own sentences, then a verdict by rule.

The questions follow the published decision flows (Wüst & Gervais 2018, "Do you need a blockchain?";
WEF 2018, "Blockchain Beyond the Hype"): is there shared state; are there several writers from
different organisations; would they all accept one trusted operator (or does one already run it);
are the writers known (permissioned vs public); is there a trust gap between them; is verification
owed to a third party; and the practical stoppers: very high frequency / low latency, large
non-transactional files, a single issuer and redeemer.

Answers come from meaning, not keywords: every pain, goal, system and constraint is cut into
sentences and clauses, and each is classified by the shared text classifier over the labelled set
evals/datasets/understanding/fit_evidence.jsonl and its parts (labels `<question>:yes`, `<question>:no`,
`<question>:unknown` for a text saying the question is still open, and `none`; clause-level negation is a
feature of the classifier). For each question the most confident clause decides, and the sentence it
belongs to is the evidence; below `MIN_CONFIDENCE` the answer is unknown. An answer that alone makes the
deal not a fit must be its clause's first reading; a sentence read as "still open" answers nothing, and a
practical stopper the deal clearly points to is not undone by another sentence saying "no".

The verdict is decided by code from the answers (`decide`), never by a model:

    not_fit  shared_state=no, multiple_writers=no, trusted_operator=yes, single_issuer=yes or high_frequency=yes
    fit      shared_state=yes, multiple_writers=yes, trusted_operator=no and trust_gap=yes (and large_files≠yes)
    partial  otherwise: a key question is unknown, there is no clear trust gap, or large files are involved

The architecture follows: fit/partial -> a consortium (permissioned) chain when the writers are known,
a public chain when they are not; not_fit -> a shared database with signed audit logs when several
parties still need one record, else an ordinary database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from copilot.deal import Deal
from copilot.results import Answer, Architecture, FitQuestion, FitQuestionKey, FitResult
from copilot.understand import Classification
from copilot.understand.negation import rules
from copilot.wording import Wording

Verdict = Literal["fit", "partial", "not_fit"]
QUESTION_KEYS: tuple[FitQuestionKey, ...] = get_args(FitQuestionKey)
NOT_FIT_WHEN: dict[FitQuestionKey, Answer] = {
    "shared_state": "no",
    "multiple_writers": "no",
    "trusted_operator": "yes",
    "single_issuer": "yes",
    "high_frequency": "yes",
}
FIT_NEEDS: dict[FitQuestionKey, Answer] = {
    "shared_state": "yes",
    "multiple_writers": "yes",
    "trusted_operator": "no",
    "trust_gap": "yes",
}
PARTIAL_WHEN: dict[FitQuestionKey, Answer] = {"large_files": "yes"}
MIN_CONFIDENCE = 0.4
"""A clause decides a question when the classifier gives its label at least this share of the votes…"""
MIN_SHARE = 0.25
MIN_SIMILARITY = 0.45
"""…or a smaller share (at least MIN_SHARE) with a labelled example this close (dense + BM25 similarity)."""
CLEAR_READING = 0.6
"""…or it is the text's first reading by this share of the votes (a short clause is far from every example)."""
TRIGGER_SHARE = 0.4
"""An answer that alone makes the deal not a fit (see NOT_FIT_WHEN) needs at least this share of the votes."""
FIRST_READING_ONLY = frozenset({"trusted_operator:no"})
"""Readings that count only as a clause's first one: "no party everyone would accept to run it" is usually the last
fit need, and a trust-gap sentence ("banks cannot rely on each other's records") reads as it second."""
STOPPERS: tuple[FitQuestionKey, ...] = ("high_frequency", "large_files", "single_issuer")
STOPPER_SHARE = 0.4
STOPPER_SIMILARITY = 0.55
CLEAR_SHARE = 0.6
CLEAR_SIMILARITY = 0.6
"""A model's free-text reason counts as stating an answer only when the classifier reads it this clearly."""
_YES_NO: tuple[Answer, Answer] = ("yes", "no")
MIN_CLAUSE_CHARS = 4
CLASSIFIER = "fit_evidence"
Classify = Callable[[str], Classification]

_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|\"[^\"]*\"")
"""Quoted deal text inside a reason: the reason's own claim is what is checked, not the customer's words."""
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])|(?<=\.)\s+")


@dataclass(frozen=True)
class Evidence:
    key: FitQuestionKey
    answer: Answer
    sentence: str
    clause: str
    confidence: float


def deal_sentences(deal: Deal) -> list[str]:
    """The deal's pains, goals and constraints as sentences, each a verbatim piece of the deal.

    System names and the industry are left out: a name ("EDI feeds", "数字版权") states no answer.
    """
    out: list[str] = []
    for text in [*deal.pains, *deal.goals, *deal.constraints.texts()]:
        for piece in _SENTENCE_END.split(text):
            piece = piece.strip()
            if len(piece) >= MIN_CLAUSE_CHARS and piece not in out:
                out.append(piece)
    return out


def _units(sentence: str) -> list[str]:
    """The sentence itself and, when it has several, each clause long enough to mean something."""
    clauses = [c.text for c in rules().clauses(sentence)]
    units = [sentence]
    if len(clauses) > 1:
        units += [c for c in clauses if len(c) >= MIN_CLAUSE_CHARS * (1 if _CJK.search(c) else 4)]
    return list(dict.fromkeys(units))


def _labels(result: Classification) -> list[tuple[FitQuestionKey, Answer, float]]:
    """The question answers a classified text gives: its labels with enough of the votes and a close example."""
    out: list[tuple[FitQuestionKey, Answer, float]] = []
    open_key = result.label.removesuffix(":unknown") if result.label.endswith(":unknown") else None
    for label, score in result.scores.items():
        if label == "none" or score < MIN_SHARE or ":" not in label:
            continue
        near = max((n.score for n in result.neighbours if n.label == label), default=0.0)
        clear = label == result.label and score >= CLEAR_READING  # a short clause can be clear yet far from any example
        if not clear and (near < MIN_SIMILARITY * 0.8 or (score < MIN_CONFIDENCE and near < MIN_SIMILARITY)):
            continue
        key, answer = label.split(":", 1)
        if key == open_key:
            continue  # the text says this question is still open: no yes or no from it
        if NOT_FIT_WHEN.get(key) == answer and (  # type: ignore[call-overload]
            score < TRIGGER_SHARE or near < MIN_SIMILARITY or label != result.label
        ):
            continue  # an answer that alone decides "not a fit" needs a clear reading, the text's first one
        if label in FIRST_READING_ONLY and label != result.label:
            continue
        if key in STOPPERS and answer == "yes" and (score < STOPPER_SHARE or near < STOPPER_SIMILARITY):
            continue  # a practical stopper is "no" unless the deal clearly points to it
        if key in QUESTION_KEYS and answer in _YES_NO:
            out.append((key, answer, score))
    return out


def gather_evidence(
    sentences: Sequence[str], classify: Classify, warm: Callable[[list[str]], object] | None = None
) -> dict[FitQuestionKey, Evidence]:
    """For each question, the most confident clause of the deal that answers it (none from a sentence that
    says the question is still open).

    `warm` (the classifier's encoder) embeds every clause in one batch first: the classifier then finds
    each vector in the embedder's cache instead of embedding clauses one at a time.
    """
    units = {sentence: _units(sentence) for sentence in sentences}
    if warm is not None:
        warm([u for group in units.values() for u in group])
    best: dict[FitQuestionKey, Evidence] = {}
    for sentence, group in units.items():
        readings = [(unit, classify(unit)) for unit in group]
        still_open = {r.label.removesuffix(":unknown") for _, r in readings if r.label.endswith(":unknown")}
        for unit, reading in readings:
            for key, answer, score in _labels(reading):
                if key in still_open:
                    continue  # the sentence says this question is still open ("…, not asked yet"): none of it answers
                if _better(best.get(key), key, answer, score):
                    best[key] = Evidence(key, answer, sentence, unit, round(score, 4))
    return best


def _better(found: Evidence | None, key: FitQuestionKey, answer: Answer, score: float) -> bool:
    """Whether a reading replaces the evidence found so far: the more confident one, except that a practical
    stopper the deal clearly points to (it passed the stricter reading) is not undone by a sentence saying "no"."""
    if found is None:
        return True
    if key in STOPPERS and answer != found.answer:
        return answer == "yes"
    return score > found.confidence


def answer_all(
    deal: Deal, classify: Classify, warm: Callable[[list[str]], object] | None = None
) -> dict[FitQuestionKey, Evidence | None]:
    """Every question's answer: the deal's evidence, the frameworks' defaults, or None (unknown).

    What the frameworks imply fills the gaps the deal leaves (the evidence is then the sentence that implies it):
    - "no party all the writers would accept to run it" presupposes several writers;
    - several writers write one state: multiple_writers=yes implies shared_state=yes;
    - nothing shared, or one issuer and redeemer, means one writer: multiple_writers=no;
    - the writers are known (permissioned) unless the deal says anyone may write: the parties of a B2B
      deal are organisations the rep can name;
    - the practical stoppers (high frequency, large files, single issuer) are "no" unless the deal points to them.
    """
    found = gather_evidence(deal_sentences(deal), classify, warm)
    out: dict[FitQuestionKey, Evidence | None] = {key: found.get(key) for key in QUESTION_KEYS}

    def imply(key: FitQuestionKey, answer: Answer, source: Evidence | None) -> None:
        if out[key] is None and source is not None:
            out[key] = Evidence(key, answer, source.sentence, source.clause, 0.0)

    operator = out["trusted_operator"]
    if operator is not None and operator.answer == "no":  # "no party all the writers accept": several writers
        imply("multiple_writers", "yes", operator)
    writers, shared, issuer = out["multiple_writers"], out["shared_state"], out["single_issuer"]
    if writers is not None and writers.answer == "yes":
        imply("shared_state", "yes", writers)
    imply("writers_known", "yes", writers or shared)
    if out["writers_known"] is None:  # the organisations a B2B deal names are known unless it says anyone may write
        out["writers_known"] = Evidence("writers_known", "yes", "", "", 0.0)
    if shared is not None and shared.answer == "no":
        imply("multiple_writers", "no", shared)
    if issuer is not None and issuer.answer == "yes":
        imply("multiple_writers", "no", issuer)
        imply("shared_state", "no", issuer)
    for key in STOPPERS:
        if out[key] is None:
            out[key] = Evidence(key, "no", "", "", 0.0)
    return out


def answers_of(questions: Sequence[FitQuestion]) -> dict[FitQuestionKey, Answer]:
    return {q.key: q.answer for q in questions}


def decide(answers: Mapping[FitQuestionKey, Answer]) -> Verdict:
    """The verdict the answers lead to (see the module docstring)."""
    if any(answers.get(key) == value for key, value in NOT_FIT_WHEN.items()):
        return "not_fit"
    fit = all(answers.get(key) == value for key, value in FIT_NEEDS.items())
    if fit and not any(answers.get(key) == value for key, value in PARTIAL_WHEN.items()):
        return "fit"
    return "partial"


def architecture_for(answers: Mapping[FitQuestionKey, Answer], verdict: Verdict) -> Architecture:
    if verdict != "not_fit":
        return "public" if answers.get("writers_known") == "no" else "consortium"
    several = answers.get("multiple_writers") == "yes" or answers.get("trusted_operator") == "yes"
    shared = answers.get("shared_state") == "yes" or (answers.get("shared_state") != "no" and several)
    return "shared_database" if shared else "database"


def if_answered(answers: Mapping[FitQuestionKey, Answer], key: FitQuestionKey) -> tuple[Verdict, Verdict]:
    """The verdict if an unknown answer turned out yes, and if it turned out no."""
    return decide({**answers, key: "yes"}), decide({**answers, key: "no"})


def firing(answers: Mapping[FitQuestionKey, Answer]) -> list[FitQuestionKey]:
    """The questions whose answer alone makes the deal not a fit."""
    return [key for key, value in NOT_FIT_WHEN.items() if answers.get(key) == value]


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{\{\s*[A-Za-z_]+\s*\}\}", template.strip())
    return re.compile("^" + "(?s:.*)".join(re.escape(p) for p in parts) + "$")


def _stated(reason: str, w: Wording) -> tuple[FitQuestionKey, Answer] | str | None:
    """What an offline reason states: (question, answer), "corpus" for a cited corpus text, or None (free text)."""
    for key in QUESTION_KEYS:
        for answer in _YES_NO:
            if _template_pattern(str(w.entries[f"reason.{key}.{answer}"])).match(reason):
                return key, answer
    for name in ("unknown", "good", "poor", "risk", "asx"):
        if _template_pattern(str(w.entries[name])).match(reason):
            return "corpus"
    return None


def _claims(reason: str, w: Wording, classify: Classify | None) -> list[tuple[FitQuestionKey, Answer]]:
    stated = _stated(reason, w)
    if isinstance(stated, tuple):
        return [stated]
    if stated == "corpus" or classify is None:
        return []
    claim = _QUOTED.sub(" ", reason).strip(" :：")
    if len(claim) < MIN_CLAUSE_CHARS * 2:
        return []
    result = classify(claim)  # free narration (a model's): only a clear reading counts
    near = result.neighbours[0].score if result.neighbours else 0.0
    return [(k, a) for k, a, score in _labels(result) if score >= CLEAR_SHARE and near >= CLEAR_SIMILARITY]


def contradictions(result: FitResult, classify: Classify | None = None) -> list[str]:
    """Where the verdict and what the result says disagree (an empty list when they agree).

    - the verdict must be the one its own answers lead to;
    - under a fit or partial verdict no reason may state a not-fit answer (one that, alone, makes the
      deal not a fit) unless it is stated and weighed as a counterpoint;
    - under a not_fit verdict no reason may deny an answer the verdict rests on.
    A reason written from the wording file states the answer of its template; any other reason (a
    model's narration) is read by the fit-evidence classifier (`classify`), quoted deal text left out.
    """
    problems: list[str] = []
    answers = answers_of(result.questions)
    if result.questions and decide(answers) != result.verdict:
        problems.append(f"the verdict is {result.verdict!r} but the answers lead to {decide(answers)!r}")
    w = Wording("fit", result.language)
    weighed = set(result.counterpoints)
    fired = firing(answers)
    for reason in result.reasons:
        if reason in weighed:
            continue
        for key, answer in _claims(reason, w, classify):
            if result.verdict != "not_fit" and NOT_FIT_WHEN.get(key) == answer:
                problems.append(
                    f"a reason says {key}={answer}, which makes it not a fit, under the verdict "
                    f"{result.verdict!r} without weighing it: {reason!r}"
                )
            if result.verdict == "not_fit" and key in fired and NOT_FIT_WHEN[key] != answer:
                problems.append(f"a reason says {key}={answer}, against the answer the verdict rests on: {reason!r}")
    return problems
