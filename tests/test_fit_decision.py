"""The fit check as an explicit decision flow: answers from meaning (zh/en, the hard cases), the rule,
the architecture, verdict/reason consistency, the JSON and Markdown, and the LLM path held to the decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from copilot.core import Copilot
from copilot.deal import Deal, deal_from_data
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.llm.draft import draft_model
from copilot.llm.fake import ScriptedChatModel
from copilot.results import Answer, BriefResult, FitQuestion, FitQuestionKey, FitResult
from copilot.skills.fit import fit_offline
from copilot.skills.fit_questions import (
    CLASSIFIER,
    QUESTION_KEYS,
    Classify,
    Evidence,
    _better,
    answer_all,
    architecture_for,
    contradictions,
    decide,
    if_answered,
)
from copilot.understand import Understanding
from copilot.wording import Wording

FIT: dict[FitQuestionKey, Answer] = {
    "shared_state": "yes",
    "multiple_writers": "yes",
    "trusted_operator": "no",
    "writers_known": "yes",
    "trust_gap": "yes",
    "third_party_verification": "unknown",
    "high_frequency": "no",
    "large_files": "no",
    "single_issuer": "no",
}


# -- the rule (no model needed) ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "verdict"),
    [
        ({}, "fit"),
        ({"shared_state": "no"}, "not_fit"),
        ({"multiple_writers": "no"}, "not_fit"),
        ({"trusted_operator": "yes"}, "not_fit"),
        ({"single_issuer": "yes"}, "not_fit"),
        ({"high_frequency": "yes"}, "not_fit"),
        ({"trusted_operator": "unknown"}, "partial"),
        ({"trust_gap": "no"}, "partial"),
        ({"trust_gap": "unknown"}, "partial"),
        ({"large_files": "yes"}, "partial"),
        ({"third_party_verification": "no"}, "fit"),
    ],
)
def test_the_rule(change: dict[FitQuestionKey, Answer], verdict: str) -> None:
    assert decide({**FIT, **change}) == verdict


def test_architecture_follows_the_answers() -> None:
    assert architecture_for(FIT, "fit") == "consortium"
    assert architecture_for({**FIT, "writers_known": "no"}, "fit") == "public"
    assert architecture_for({**FIT, "trusted_operator": "yes"}, "not_fit") == "shared_database"
    assert architecture_for({**FIT, "shared_state": "no", "multiple_writers": "no"}, "not_fit") == "database"


def test_an_unknown_answer_says_how_the_verdict_would_change() -> None:
    answers = {**FIT, "trusted_operator": "unknown"}
    assert if_answered(answers, "trusted_operator") == ("not_fit", "fit")
    assert if_answered(answers, "third_party_verification") == ("partial", "partial")


def _questions(answers: dict[FitQuestionKey, Answer]) -> list[FitQuestion]:
    return [FitQuestion(key=k, question=k, answer=answers[k]) for k in QUESTION_KEYS]


def test_a_verdict_its_answers_do_not_lead_to_is_a_contradiction() -> None:
    answers = {**FIT, "trusted_operator": "yes"}
    result = FitResult(language="en", verdict="fit", reasons=[], questions=_questions(answers))
    assert contradictions(result) == ["the verdict is 'fit' but the answers lead to 'not_fit'"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_not_fit_reason_under_a_fit_verdict_must_be_weighed(lang: str) -> None:
    """The issue's case: a dominant platform the suppliers accepted, quoted under a fit verdict."""
    w = Wording("fit", lang)
    evidence = "最大的零售商要求供应商都用它的平台，供应商已接受" if lang == "zh" else "The retailer runs the platform"
    reason = w("reason.trusted_operator.yes", evidence=evidence)
    result = FitResult(language=lang, verdict="fit", reasons=[reason], questions=_questions(FIT))  # type: ignore[arg-type]
    problems = contradictions(result)
    assert len(problems) == 1 and "trusted_operator=yes" in problems[0]
    weighed = result.model_copy(update={"counterpoints": [reason]})
    assert contradictions(weighed) == []


def test_under_not_fit_a_reason_may_not_deny_what_decided_it() -> None:
    w = Wording("fit", "en")
    answers = {**FIT, "trusted_operator": "yes"}
    denial = w("reason.trusted_operator.no", evidence="nobody would run it")
    result = FitResult(language="en", verdict="not_fit", reasons=[denial], questions=_questions(answers))
    assert any("against the answer the verdict rests on" in p for p in contradictions(result))


# -- answers from meaning (the embedder only) ----------------------------------------------------
@pytest.fixture(scope="module")
def classify() -> tuple[Classify, Any]:
    from copilot.index.embedding import UseEmbeddingFunction

    encode = UseEmbeddingFunction().encode
    return Understanding(encode).classifier(CLASSIFIER).classify, encode


def _deal(lang: str, pains: list[str], constraints: list[str] | None = None) -> Deal:
    return deal_from_data(
        {"scenario": "traceability", "language": lang, "pains": pains, "constraints": constraints or []}
    )


DOMINANT_PLATFORM = (
    "The largest retailer requires all suppliers to enter batch data into its own platform, and they have accepted"
)
HARD = [
    # negation: a trusted operator denied, not asserted
    ("en", ["There is no common authority all of them would let run a central database"], "trusted_operator", "no"),
    ("zh", ["没有一家机构是各方都信得过、愿意让它来统一管理数据的"], "trusted_operator", "no"),
    # paraphrase: a trust gap without the usual words
    ("en", ["Packers and growers each write lot records, and none trusts the others' paperwork"], "trust_gap", "yes"),
    ("zh", ["加工厂和种植户各记一套，谁也不认谁开的单子"], "trust_gap", "yes"),
    # dominant platform / trusted operator
    (
        "en",
        [DOMINANT_PLATFORM],
        "trusted_operator",
        "yes",
    ),
    ("zh", ["行业协会运营的中心数据库大家都认可，一直在用"], "trusted_operator", "yes"),
    # latency
    ("en", ["Quotes must be matched and confirmed in microseconds"], "high_frequency", "yes"),
    ("zh", ["撮合要在微秒内完成确认"], "high_frequency", "yes"),
    # big files
    ("en", ["Every inspection comes with hours of drone video that has to be stored"], "large_files", "yes"),
    ("zh", ["每次巡检都有几个小时的无人机视频要保存下来"], "large_files", "yes"),
    # single issuer
    ("en", ["We are the only issuer of these vouchers and the only place that redeems them"], "single_issuer", "yes"),
    ("zh", ["储值卡由我们自己发行，也只在自家门店使用"], "single_issuer", "yes"),
]


@pytest.mark.parametrize(("lang", "pains", "key", "answer"), HARD, ids=[f"{h[2]}-{h[3]}-{h[0]}" for h in HARD])
def test_hard_cases_are_read_by_meaning(
    classify: tuple[Classify, Any], lang: str, pains: list[str], key: FitQuestionKey, answer: str
) -> None:
    found = answer_all(_deal(lang, pains), *classify)[key]
    assert found is not None and found.answer == answer
    assert found.sentence in pains[0]


def test_stoppers_default_to_no_and_writers_imply_shared_state(classify: tuple[Classify, Any]) -> None:
    deal = _deal("en", ["Growers, packers and three grocery chains each keep their own lot records"])
    found = answer_all(deal, *classify)
    assert {k: found[k].answer for k in ("high_frequency", "large_files", "single_issuer")} == dict.fromkeys(
        ("high_frequency", "large_files", "single_issuer"), "no"
    )
    writers, shared = found["multiple_writers"], found["shared_state"]
    assert writers is not None and writers.answer == "yes"
    assert shared is not None and shared.answer == "yes" and shared.sentence == writers.sentence


def test_a_short_clause_read_clearly_answers(classify: tuple[Classify, Any]) -> None:
    """ "出了箱损互相推诿" is far from every labelled example (few shared words) but read clearly as blame."""
    found = answer_all(_deal("zh", ["码头、船代和车队各自记录集装箱交接，出了箱损互相推诿"]), *classify)["trust_gap"]
    assert found is not None and found.answer == "yes" and found.clause == "出了箱损互相推诿"


def test_a_stopper_the_deal_points_to_is_not_undone_by_a_no() -> None:
    no = Evidence("high_frequency", "no", "a few hundred a day", "a few hundred a day", 0.9)
    assert _better(no, "high_frequency", "yes", 0.5)
    assert not _better(Evidence("high_frequency", "yes", "µs", "µs", 0.5), "high_frequency", "no", 0.9)
    assert not _better(Evidence("trust_gap", "yes", "x", "x", 0.9), "trust_gap", "no", 0.5)  # not a stopper


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "Whether the dealers would let the carmaker host the shared register has not been asked yet"),
        ("zh", "经销商们愿不愿意让主机厂来托管共享登记簿，还没有问过"),
    ],
)
def test_a_sentence_saying_the_question_is_open_answers_nothing(
    classify: tuple[Classify, Any], lang: str, sentence: str
) -> None:
    assert answer_all(_deal(lang, [sentence]), *classify)["trusted_operator"] is None


# -- the skill over the shipped corpus ---------------------------------------------------------------
FIT_DEAL = {
    "customer": "Orchard Co-op",
    "scenario": "traceability",
    "region": "us",
    "language": "en",
    "pains": [
        "Growers, packers and carriers each keep their own lot records, and none trusts the others' paperwork",
        "Every recall ends with each firm blaming the next one",
    ],
    "goals": ["One lot history that every party writes into", "Give inspectors a record nobody could edit"],
    "constraints": ["There is no common authority all of them would let run a central database"],
}
PLATFORM_DEAL_ZH = {
    "customer": "北方菜业",
    "scenario": "traceability",
    "region": "cn",
    "language": "zh",
    "pains": ["基地和物流之间偶尔为批次对不上扯皮"],
    "constraints": ["最大的连锁超市要求所有供应商把批次数据录入它自己的平台，供应商们都已经接受了"],
}


def _fit(kb: KnowledgeBase, data: dict[str, Any]) -> tuple[Deal, FitResult]:
    deal = deal_from_data(data)
    return deal, fit_offline(kb, Grounding(kb, deal.lang, deal.text()), deal)


def test_a_fit_deal_shows_questions_answers_and_evidence(kb: KnowledgeBase) -> None:
    deal, result = _fit(kb, FIT_DEAL)
    assert result.verdict == "fit" and result.architecture == "consortium" and result.alternative is None
    by_key = {q.key: q for q in result.questions}
    assert [q.key for q in result.questions] == list(QUESTION_KEYS)
    assert by_key["trusted_operator"].answer == "no"
    assert by_key["trusted_operator"].evidence == FIT_DEAL["constraints"][0]
    assert all(q.evidence is None or q.evidence in deal.text() for q in result.questions)
    assert "### The decision, question by question" in result.text and "| question | answer |" in result.text
    assert result.one_line.startswith("Fit:") and "consortium" in result.one_line
    assert contradictions(result, kb.understanding.classifier(CLASSIFIER).classify) == []


def test_a_dominant_platform_is_not_a_fit_zh(kb: KnowledgeBase) -> None:
    _, result = _fit(kb, PLATFORM_DEAL_ZH)
    assert result.verdict == "not_fit" and result.architecture == "shared_database"
    assert result.alternative and "### 建议的替代方案" in result.text and "### 逐项判断" in result.text
    assert result.one_line.startswith("不适合")
    assert contradictions(result, kb.understanding.classifier(CLASSIFIER).classify) == []


def test_an_unknown_answer_becomes_a_discovery_question(kb: KnowledgeBase) -> None:
    pains = ["Growers, packers and carriers each keep their own lot records", FIT_DEAL["pains"][1]]
    data = {**FIT_DEAL, "pains": pains, "constraints": []}
    _, result = _fit(kb, data)
    operator = next(q for q in result.questions if q.key == "trusted_operator")
    assert result.verdict == "partial" and operator.answer == "unknown"
    assert operator.discovery and operator.changes == "If yes: not a fit; if no: a fit."
    assert operator.discovery in result.text and "### Ask the customer" in result.text
    assert result.counterpoints, "the wrong-tool cautions are stated and weighed, not silently kept"


def test_nego_fit_json(kb: KnowledgeBase, shipped_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nego import cli, skills_cli

    settings, _, _ = shipped_index
    monkeypatch.setattr(skills_cli, "open_copilot", lambda *a, **k: Copilot(settings, kb))
    deal_file = tmp_path / "deal.json"
    deal_file.write_text(json.dumps(FIT_DEAL), encoding="utf-8")
    out = CliRunner().invoke(cli.app, ["fit", "--deal", str(deal_file), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["verdict"] == "fit" and data["architecture"] == "consortium"
    assert {"key", "answer", "evidence"} <= set(data["questions"][0]) and data["reasons"] and data["one_line"]


# -- LLM mode: the model narrates, the code decides ---------------------------------------------------
def _llm(kb: KnowledgeBase, shipped_index: Any, script: list[object]) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings.model_copy(update={"max_retries": 0}), kb, model=ScriptedChatModel(script=script))


def test_llm_narration_keeps_the_codes_decision(kb: KnowledgeBase, shipped_index: Any) -> None:
    draft = {
        "verdict": "fit",
        "reasons": ["Growers, packers and carriers write the same lot history."],
        "cited": ["C1"],
    }
    model_copilot = _llm(kb, shipped_index, [{**draft, "alternative": None}])
    result = model_copilot.fit(deal_from_data(FIT_DEAL))
    assert result.mode == "llm", result.notices
    assert result.reasons == draft["reasons"] and result.questions and result.architecture == "consortium"
    assert "verdict: fit (decided" in model_copilot.model.prompts[0][-1].content  # type: ignore[union-attr]


def test_llm_narration_contradicting_the_verdict_is_rejected(kb: KnowledgeBase, shipped_index: Any) -> None:
    wrong = {"verdict": "not_fit", "reasons": ["A database would do."], "alternative": "A database", "cited": ["C1"]}
    result = _llm(kb, shipped_index, [wrong, wrong]).fit(deal_from_data(FIT_DEAL))
    assert result.mode == "offline" and result.verdict == "fit"
    assert any(n.kind == "fallback" for n in result.notices)


# -- the eval suite -----------------------------------------------------------------------------------
def test_the_fit_suite_scores_verdicts_answers_and_consistency(
    kb: KnowledgeBase, shipped_index: Any, tmp_path: Path
) -> None:
    import yaml

    from evals.runner import RunConfig, run_suite

    settings, _, _ = shipped_index
    answers = {**FIT, "third_party_verification": "yes"}
    cases = [
        {
            "id": "fit-en",
            "lang": "en",
            "hard": ["negation"],
            "deal": FIT_DEAL,
            "expected": {"verdict": "fit", "architecture": "consortium", "questions": answers},
        },
        {
            "id": "platform-zh",
            "lang": "zh",
            "hard": ["dominant_platform"],
            "deal": PLATFORM_DEAL_ZH,
            "expected": {
                "verdict": "not_fit",
                "architecture": "shared_database",
                "questions": {**answers, "trusted_operator": "yes", "third_party_verification": "unknown"},
            },
        },
    ]
    dataset = tmp_path / "fit.yaml"
    dataset.write_text(yaml.safe_dump({"cases": cases}, allow_unicode=True), encoding="utf-8")
    summary = run_suite(settings, kb, RunConfig(suite="fit", out_dir=tmp_path / "run", dataset=dataset), progress=False)
    assert summary.cases == 2 and summary.errors == 0
    assert summary.metrics["fit_verdict"].mean == 1.0 and summary.metrics["fit_consistency"].mean == 1.0
    assert {"fit_questions", "fit_architecture", "fit_evidence"} <= set(summary.metrics)
    assert set(summary.slices) >= {"all", "en", "zh", "hard:negation", "hard:dominant_platform"}
    assert "fit_verdict" in (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")


# -- the brief in LLM mode carries the same decision ----------------------------------------------------
def _as_draft(draft_cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """A result's dump cut to what the model writes (its draft), citing no passage (a brief's prompt may hold none)."""
    out: dict[str, Any] = {}
    for name, info in draft_cls.model_fields.items():
        ann, value = info.annotation, data.get(name)
        item = get_args(ann)[0] if get_origin(ann) is list else ann
        nested = isinstance(item, type) and issubclass(item, BaseModel) and item.__name__.endswith("Draft")
        if name == "cited":
            out[name] = []
        elif nested and isinstance(value, list):
            out[name] = [_as_draft(item, v) for v in value]
        elif nested and isinstance(value, dict):
            out[name] = _as_draft(item, value)
        else:
            out[name] = value
    return out


def test_llm_brief_carries_the_fit_decision(kb: KnowledgeBase, shipped_index: Any) -> None:
    deal = deal_from_data(FIT_DEAL)
    offline = Copilot(shipped_index[0], kb).brief(deal)
    draft = _as_draft(draft_model(BriefResult), offline.model_dump(mode="json"))
    draft["fit"] = {**draft["fit"], "reasons": ["Growers, packers and carriers write the same lot history."]}
    model_copilot = _llm(kb, shipped_index, [draft])
    result = model_copilot.brief(deal)
    assert result.mode == "llm", result.notices
    assert result.fit.questions == offline.fit.questions and result.fit.architecture == "consortium"
    assert result.fit.one_line == offline.fit.one_line and "| question | answer |" in result.text
    assert result.card is not None and result.card.fit_line == offline.fit.one_line
    assert "verdict: fit (decided" in model_copilot.model.prompts[0][-1].content  # type: ignore[union-attr]

    wrong = {**draft, "fit": {**draft["fit"], "verdict": "not_fit", "alternative": "A database"}}
    fallback = _llm(kb, shipped_index, [wrong, wrong]).brief(deal)
    assert fallback.mode == "offline" and fallback.fit.verdict == "fit"
