"""The fit check's labelled evidence (what it learns from) shares no sentence with the labelled deals it is
scored on (evals/datasets/fit_deals.yaml): training on the test set would make the fit suite's figures a lie."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

import yaml

from copilot import paths
from copilot.deal import Deal
from copilot.skills.fit_questions import QUESTION_KEYS, deal_sentences
from copilot.understand.examples import example_files, load_examples

NEAR_COPY = 0.8
"""Two texts this alike (character ratio, punctuation and case ignored) count as one sentence lightly edited."""


def _norm(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def _deal_sentences() -> list[str]:
    data = yaml.safe_load((paths.datasets_dir() / "fit_deals.yaml").read_text(encoding="utf-8"))
    out: list[str] = []
    for case in data["cases"]:
        out += [s for s in deal_sentences(Deal.model_validate(case["deal"])) if len(_norm(s)) >= 6]
    return out


def test_no_evidence_example_is_a_sentence_of_the_scored_deals() -> None:
    deals = {_norm(s): s for s in _deal_sentences()}
    examples = [e for f in example_files("fit_evidence") for e in load_examples(f)]
    copies = []
    for example in examples:
        text = _norm(example.text)
        for norm, sentence in deals.items():
            if abs(len(text) - len(norm)) > 0.5 * max(len(text), len(norm)):
                continue
            if text == norm or SequenceMatcher(None, text, norm).ratio() >= NEAR_COPY:
                copies.append(f"{example.id}: {example.text!r} ~ {sentence!r}")
    assert not copies, "\n".join(copies)


def test_every_evidence_label_is_a_question_answer_or_none() -> None:
    labels = {e.label for f in example_files("fit_evidence") for e in load_examples(f)}
    allowed = {f"{k}:{a}" for k in QUESTION_KEYS for a in ("yes", "no", "unknown")} | {"none"}
    assert labels <= allowed, labels - allowed
    assert {f"{k}:{a}" for k in QUESTION_KEYS for a in ("yes", "no")} <= labels
