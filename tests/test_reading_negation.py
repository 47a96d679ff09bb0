"""Negated regimes: "no GDPR exposure", "不涉及跨境数据", "we are not subject to DORA" are no requirement.

The constraint classifier learns it from labelled examples (constraints.negated.jsonl); the regime a
sentence names only in negated clauses (copilot.understand's clause-level negation) is kept as
`excluded_regime`, shown to the rep, and the risks get no item for it. A requirement phrased with a
negation ("不得低于等保三级", "no go-live without MLPS level 3") stays a requirement.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from copilot import paths
from copilot.corpus.lexicons import load_industries, load_regimes
from copilot.corpus.loader import load_corpus
from copilot.deal import deal_from_data
from copilot.grounding import Grounding
from copilot.reading.build import read_deal
from copilot.reading.render import render_reading
from copilot.understand.hub import Understanding

NEGATED = [  # (text, language, regime said not to apply): none of them is in the labelled set
    ("The client has no GDPR exposure at all", "en", "gdpr"),
    ("Our customer is not subject to DORA", "en", "dora"),
    ("客户说GDPR跟他们没关系", "zh", "gdpr"),
    ("本项目不涉及任何跨境数据", "zh", "cross_border_transfer"),
    ("no GDPR exposure", "en", "gdpr"),  # the issue's own sentences
    ("we are not subject to DORA", "en", "dora"),
    ("不涉及跨境数据", "zh", "cross_border_transfer"),
]
REQUIRED = [  # negation words, and still a requirement of the regime
    ("不得低于等保三级", "zh", "mlps"),
    ("上线前必须完成等保测评，不能拖", "zh", "mlps"),
    ("must comply with DORA", "en", "dora"),
]


@pytest.fixture(scope="module")
def light_kb() -> Any:
    from copilot.index.embedding import UseEmbeddingFunction

    corpus = paths.corpus_dir()
    ids = {d.id for d in load_corpus(corpus).documents}
    return SimpleNamespace(
        understanding=Understanding(UseEmbeddingFunction().encode),
        regimes=load_regimes(corpus, ids)[0],
        industries=load_industries(corpus)[0],
    )


@pytest.mark.parametrize(("text", "lang", "regime"), NEGATED)
@pytest.mark.parametrize("form", ["sentence", "declared"])
def test_a_regime_said_not_to_apply_is_no_requirement(
    light_kb: Any, text: str, lang: str, regime: str, form: str
) -> None:
    constraints: Any = [text] if form == "sentence" else {"compliance": [text]}
    deal = deal_from_data({"scenario": "trade_finance", "language": lang, "constraints": constraints})
    reading = read_deal(deal, light_kb)
    (pc,) = reading.constraints
    assert pc.kind == "other" and pc.excluded_regime == regime, pc.reason
    assert reading.regimes == [] and reading.of_kind("data_residency") == []
    shown = render_reading(reading, {r.key: r for r in light_kb.regimes})
    assert ("说明不适用" if lang == "zh" else "stated as not applying") in shown


@pytest.mark.parametrize(("text", "lang", "regime"), REQUIRED)
@pytest.mark.parametrize("form", ["sentence", "declared"])
def test_a_requirement_with_a_negation_word_stays_one(
    light_kb: Any, text: str, lang: str, regime: str, form: str
) -> None:
    constraints: Any = [text] if form == "sentence" else {"compliance": [text]}
    deal = deal_from_data({"scenario": "traceability", "language": lang, "constraints": constraints})
    reading = read_deal(deal, light_kb)
    assert reading.regimes == [regime] and reading.constraints[0].excluded_regime is None


def test_the_risks_have_no_item_for_a_negated_regime(kb: Any) -> None:
    from copilot.skills.risks import risks_offline

    for lang, constraints in (
        ("en", ["no GDPR exposure", {"compliance": ["we are not subject to DORA"]}, "must comply with MiCA"]),
        ("zh", ["不涉及跨境数据", {"compliance": ["客户不受DORA约束"]}, "须通过等保三级"]),
    ):
        deal = deal_from_data(
            {"scenario": "trade_finance", "region": "eu", "language": lang, "constraints": constraints}
        )
        reading = read_deal(deal, kb)
        risks = risks_offline(kb, Grounding(kb, lang, reading.text()), deal, reading)
        ids = {item.risk_id for item in risks.items}
        wanted = "regime-mica" if lang == "en" else "regime-mlps"
        assert wanted in ids, ids
        assert not ids & {"regime-gdpr", "regime-dora", "regime-cross-border-transfer"}, ids
