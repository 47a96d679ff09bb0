"""The model judge with the scripted fake model: rubric in the case's language, validated output,
failures reported and never scored, pairwise order randomised with a fixed seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.llm.fake import ScriptedChatModel
from copilot.llm.runner import RetryPolicy
from copilot.settings import Settings
from copilot.text.lang import cjk_ratio
from evals.judge import Judge, JudgeFailure, extract_json, pair_order
from evals.models import CaseResult, JudgeScore
from evals.summary import judge_summary

VERDICT = {
    "grounded": 5,
    "relevant": 4,
    "clear": 4,
    "honest": 5,
    "actionable": 3,
    "overall": 4,
    "rationale": "Grounded in the Walmart case.",
}


def judge(script: list[object], tmp_path: Path, seed: int = 0) -> tuple[Judge, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    settings = Settings(home=tmp_path, max_retries=1)
    return Judge(model, settings, seed=seed, retry=RetryPolicy(sleep=lambda _s: None)), model


def test_a_valid_verdict_is_scored(tmp_path: Path) -> None:
    j, model = judge([VERDICT], tmp_path)
    score = j.score(skill="fit", lang="en", task="Task: fit", answer="Verdict: a good fit.")
    assert score.error is None and score.overall == 0.75
    assert score.criteria == {**{k: v for k, v in VERDICT.items() if k != "rationale"}}
    assert score.usage.prompt_tokens > 0 and score.usage.completion_tokens > 0
    prompt = model.prompts[0][0].text
    assert prompt.startswith("You are a strict reviewer")
    assert '<data name="answer">\nVerdict: a good fit.\n</data>' in prompt


def test_a_chinese_case_is_judged_in_chinese(tmp_path: Path) -> None:
    j, model = judge([{**VERDICT, "rationale": "有据可依。"}], tmp_path)
    score = j.score(skill="fit", lang="zh", task="任务：判断", answer="结论：适合用区块链。")
    assert score.error is None and score.lang == "zh"
    instructions = model.prompts[0][0].text.split("<data")[0]
    assert cjk_ratio(instructions) > 0.3, "the rubric must be the Chinese one"


def test_fenced_json_is_accepted() -> None:
    assert extract_json('Here it is:\n```json\n{"winner": "1", "rationale": "x"}\n```') == (
        '{"winner": "1", "rationale": "x"}'
    )


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        ("I think it is quite good.", "no JSON object"),
        ('{"grounded": 5, "overall": 4', "no JSON object"),
        ({**VERDICT, "overall": 9}, "overall"),
        ({k: v for k, v in VERDICT.items() if k != "honest"}, "honest"),
        (TimeoutError("scripted"), "timeout"),
    ],
    ids=["prose", "cut-json", "out-of-range", "missing-criterion", "endpoint-timeout"],
)
def test_judge_failures_are_reported_not_scored(tmp_path: Path, reply: object, fragment: str) -> None:
    # a retryable failure is retried once (max_retries=1): script it twice
    j, _ = judge([reply, reply], tmp_path)
    score = j.score(skill="risks", lang="en", task="t", answer="a")
    assert score.overall is None and score.criteria == {}
    assert score.error is not None and fragment in score.error


def test_failures_never_count_in_the_judge_summary() -> None:
    ok = JudgeScore(skill="fit", lang="en", overall=1.0, criteria={"overall": 5})
    failed = JudgeScore(skill="risks", lang="en", error="invalid_output: the reply holds no JSON object")
    case = CaseResult(case_id="c", suite="skills", index=0, status="pass", judge=[ok, failed])
    summary = judge_summary([case])
    assert summary.judged == 1 and summary.failures == 1 and summary.overall == 1.0
    assert summary.failure_messages == ["invalid_output: the reply holds no JSON object"]


def test_judge_failure_messages_never_carry_the_reply() -> None:
    with pytest.raises(JudgeFailure) as info:
        extract_json("secret text without braces")
    assert "secret" not in str(info.value)


# -- pairwise -------------------------------------------------------------------------------------
def test_pairwise_order_is_seeded_and_varies_across_pairs() -> None:
    keys = [f"case-{n}/fit" for n in range(40)]
    orders = [pair_order(7, k) for k in keys]
    assert orders == [pair_order(7, k) for k in keys]  # same seed, same order
    assert 10 < sum(orders) < 30  # both orders occur
    assert orders != [pair_order(8, k) for k in keys]  # another seed, another draw


def test_pairwise_maps_the_shown_order_back_to_a_and_b(tmp_path: Path) -> None:
    keys = [f"k{n}" for n in range(12)]
    swapped = [k for k in keys if pair_order(3, k)]
    straight = [k for k in keys if not pair_order(3, k)]
    assert swapped and straight
    j, model = judge([{"winner": "1", "rationale": "first is better"}] * 2, tmp_path, seed=3)
    shown_b_first = j.compare(key=swapped[0], lang="en", task="t", answer_a="ANSWER-A", answer_b="ANSWER-B")
    shown_a_first = j.compare(key=straight[0], lang="en", task="t", answer_a="ANSWER-A", answer_b="ANSWER-B")
    assert shown_b_first.swapped and shown_b_first.winner == "b"
    assert not shown_a_first.swapped and shown_a_first.winner == "a"
    first_prompt = model.prompts[0][0].text
    assert first_prompt.index("ANSWER-B") < first_prompt.index("ANSWER-A")


def test_pairwise_tie_zh_and_failure(tmp_path: Path) -> None:
    j, model = judge([{"winner": "tie", "rationale": "一样好"}, {"winner": "3", "rationale": "?"}], tmp_path)
    tie = j.compare(key="k", lang="zh", task="任务", answer_a="甲", answer_b="乙")
    assert tie.winner == "tie" and tie.error is None
    assert cjk_ratio(model.prompts[0][0].text.split("<data")[0]) > 0.3
    bad = j.compare(key="k", lang="zh", task="任务", answer_a="甲", answer_b="乙")
    assert bad.winner is None and bad.error is not None and "winner" in bad.error


def test_judge_prompts_are_redacted_for_a_remote_judge_and_the_rationale_restored(tmp_path: Path) -> None:
    """Issue 16: the eval judge's prompts leave the machine like any request: personal data as placeholders."""
    model = ScriptedChatModel(script=[{**VERDICT, "rationale": "Gives [PHONE_1] as the contact."}])
    settings = Settings(home=tmp_path, provider="deepseek", max_retries=0)  # a remote endpoint: "auto" redacts
    j = Judge(model, settings, retry=RetryPolicy(sleep=lambda _s: None))
    task = "Deal: contact Wang, 13812345678, wang@example.com, ID 11010519491231002X; US office (415) 555-2671"
    score = j.score(skill="ask", lang="en", task=task, answer="Call 138 1234 5678 or 415-555-2671.")
    prompt = model.prompts[0][0].text
    for value in ("13812345678", "138 1234 5678", "wang@example.com", "11010519491231002X", "555-2671"):
        assert value not in prompt, value
    assert "[PHONE_1]" in prompt and "[EMAIL_1]" in prompt and "[ID_1]" in prompt and "[PHONE_2]" in prompt
    assert score.error is None and score.rationale == "Gives 13812345678 as the contact."

    pair_model = ScriptedChatModel(script=[{"winner": "1", "rationale": "ok"}])
    Judge(pair_model, settings).compare(key="k", lang="zh", task=task, answer_a="电话 13812345678", answer_b="无")
    assert "13812345678" not in pair_model.prompts[0][0].text

    local = ScriptedChatModel(script=[VERDICT])
    Judge(local, Settings(home=tmp_path, redact_pii="off")).score(skill="ask", lang="en", task=task, answer="x")
    assert "13812345678" in local.prompts[0][0].text
