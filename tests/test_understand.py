"""The shared classifier (copilot.understand): negation, loading labelled sets, leave-one-out, unsure answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copilot.understand.classifier import ClassifierParams, TextClassifier, leave_one_out
from copilot.understand.examples import ExamplesError, LabelledExample, load_examples
from copilot.understand.hub import Understanding
from copilot.understand.negation import rules


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("there is no common authority all of them would let run a central database", True),
        ("没有哪一家是大家都信得过的", True),
        ("各家都不认对方的单据", True),
        ("a trusted party runs it", False),
        ("非常好，不同的系统", False),  # 非常 = very, 不同 = different
        ("we don't not want it", False),  # double negation
        ("no later than June", False),
        ("预算不超过300万", True),
    ],
)
def test_clause_negation(text: str, negated: bool) -> None:
    assert rules().negated(text) is negated


def test_clauses_split_on_contrast() -> None:
    clauses = rules().clauses("The bank runs a registry, but nobody trusts it")
    assert [c.negated for c in clauses] == [False, True]


def _bag_encoder(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in embedder: bag of characters hashed into 64 dimensions."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for ch in text.lower():
            out[row, ord(ch) % 64] += 1.0
    return out


EXAMPLES = [
    LabelledExample(id=f"e{i}", lang="en", text=text, label=label)
    for i, (text, label) in enumerate(
        [
            ("too expensive for us", "cost"),
            ("the price is too high", "cost"),
            ("we cannot afford this budget", "cost"),
            ("suppliers will never join", "adoption"),
            ("our partners will not enter data", "adoption"),
            ("nobody will onboard the platform", "adoption"),
        ]
    )
]


def test_classify_and_leave_one_out() -> None:
    clf = TextClassifier(EXAMPLES, _bag_encoder, ClassifierParams(k=3))
    got = clf.classify("the price is too expensive")
    assert got.label == "cost" and 0 < got.confidence <= 1 and got.neighbours
    report = leave_one_out("toy", clf)
    assert report.total == 6 and 0 <= report.accuracy <= 1
    assert set(report.per_label) == {"cost", "adoption"}
    # leaving an example out really leaves it out: it is never its own neighbour
    assert all(n.id != "e0" for n in clf.classify(EXAMPLES[0].text, exclude="e0").neighbours)


def test_low_confidence_is_unsure() -> None:
    clf = TextClassifier(EXAMPLES, _bag_encoder, ClassifierParams(k=6, min_confidence=0.99))
    assert clf.classify("zzz qqq").unsure


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_bad_example_files_name_the_line(tmp_path: Path) -> None:
    good = {"id": "a", "lang": "en", "text": "x", "label": "p"}
    with pytest.raises(ExamplesError, match=r"bad.jsonl:2: invalid JSON"):
        load_examples(_write(tmp_path / "bad.jsonl", [good, "{oops"]))
    with pytest.raises(ExamplesError, match=r"dup.jsonl:2: id: 'a' already used on line 1"):
        load_examples(_write(tmp_path / "dup.jsonl", [good, {**good, "label": "q"}]))
    with pytest.raises(ExamplesError, match=r"lang.jsonl:1: lang"):
        load_examples(_write(tmp_path / "lang.jsonl", [{**good, "lang": "fr"}]))
    with pytest.raises(ExamplesError, match="at least two labels"):
        TextClassifier(load_examples(_write(tmp_path / "one.jsonl", [good, {**good, "id": "b"}])), _bag_encoder)


def test_hub_merges_parts_and_keeps_extra_fields(tmp_path: Path) -> None:
    main = _write(tmp_path / "toy.jsonl", [{"id": "a", "lang": "en", "text": "cheap", "label": "p", "amount": 3}])
    part = _write(tmp_path / "toy.more.jsonl", [{"id": "b", "lang": "zh", "text": "贵", "label": "q"}])
    hub = Understanding(_bag_encoder)
    clf = hub.classifier("toy", files=[main, part])
    assert [e.id for e in clf.examples] == ["a", "b"]
    assert clf.examples[0].extra == {"amount": 3}
    assert hub.classifier("toy", files=[main, part]) is clf  # built once


def test_shipped_sets_load_and_classify() -> None:
    """The shipped objection set classifies the two objections issue 14 quotes as mis-read before."""
    from copilot.index.embedding import UseEmbeddingFunction

    understanding = Understanding(UseEmbeddingFunction().encode)
    assert understanding.classify("objections", "供应商不会愿意上链录数据").label == "partner_adoption"
    assert understanding.classify("objections", "数据上链前就是假的").label == "data_quality"
