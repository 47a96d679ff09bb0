"""The Copilot facade: offline by default, LLM mode against a real OpenAI-compatible server, chat routing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai_server import ReplyJSON, Status
from samples import deal_for

from copilot.core import ChatTurn, Copilot
from copilot.router import route
from copilot.settings import Settings
from copilot.skill_run import result_problems


@pytest.fixture(scope="module")
def offline(kb: Any, shipped_index: Any) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings, kb)


@pytest.mark.parametrize(
    ("message", "skill"),
    [
        ("帮我准备明天会议的简报", "card"),
        ("客户说：“TradeLens不就关了吗？”怎么回应", "objection"),
        ('The buyer says "why not just a database?"', "objection"),
        ("这个项目有哪些风险", "risks"),
        ("what are the risks for this deal", "risks"),
        ("给我一个分阶段的里程碑计划", "plan"),
        ("Do we even need a blockchain here?", "fit"),
        ("用大白话解释一下零知识证明", "explain"),
        ("Explain PBFT to a CFO", "explain"),
        ("沃尔玛芒果溯源从几天缩短到几秒？", "ask"),
    ],
)
def test_router(kb: Any, message: str, skill: str) -> None:
    assert route(message, kb.understanding.classify).skill == skill


def test_offline_mode_by_default(offline: Copilot) -> None:
    assert offline.mode == "offline"
    result = offline.ask("沃尔玛芒果溯源从几天缩短到几秒？")
    assert result.mode == "offline" and result.found
    assert result.usage.completion_tokens > 0 and result.usage.cost_usd == 0


def test_chat_streams_events_and_keeps_the_deal(offline: Copilot) -> None:
    deal = deal_for("traceability", "zh")
    events = list(offline.chat("这个项目有哪些风险？", [], deal))
    kinds = [e.kind for e in events]
    assert kinds[0] == "route" and kinds[-1] == "done" and "text" in kinds and "citations" in kinds
    text = "".join(e.text or "" for e in events if e.kind == "text")
    result = next(e.result for e in events if e.kind == "result")
    assert text == result.text and result.skill == "risks"
    assert deal.customer in text
    # A follow-up turn retrieves again and answers in the turn's language.
    history = [ChatTurn(role="user", content="这个项目有哪些风险？"), ChatTurn(role="assistant", content=text)]
    follow = next(
        e.result
        for e in offline.chat("Which law says personal data must be deletable?", history, deal)
        if e.kind == "result"
    )
    assert follow.skill == "ask" and follow.language == "en" and follow.citations


def test_missing_key_falls_back_to_offline_with_a_notice(kb: Any, shipped_index: Any) -> None:
    settings, _, _ = shipped_index
    copilot = Copilot.open(settings.model_copy(update={"provider": "deepseek", "model": "deepseek-chat"}), kb)
    assert copilot.mode == "offline"
    result = copilot.fit(deal_for("traceability", "en"))
    assert result.mode == "offline"
    assert any(n.kind == "fallback" for n in result.notices)


def test_llm_mode_against_the_test_server(kb: Any, shipped_index: Any, openai_server: Any) -> None:
    """The real openai client through ChatOpenAI: the model's structured answer, checked by the validators."""
    settings, _, _ = shipped_index
    llm_settings = settings.model_copy(
        update={"provider": "custom", "model": "test-model", "base_url": openai_server.base_url, "max_retries": 0}
    )
    copilot = Copilot.open(llm_settings, kb)
    assert copilot.mode == "llm"
    deal = deal_for("traceability", "en")
    decided = Copilot(settings, kb).fit(deal).verdict  # the code decides the verdict; the model narrates it
    draft = {
        "verdict": decided,
        "reasons": ["Several growers, carriers and retailers write shared batch records and disputes arise."],
        "alternative": None,
        "cited": ["C1"],
    }
    openai_server.script(ReplyJSON(draft))
    result = copilot.fit(deal)
    assert result.mode == "llm", result.notices
    assert result.verdict == decided and result.citations
    request = openai_server.chat_requests()[-1]
    assert request.body["model"] == "test-model"
    # The prompt carries the deal and the retrieved passages, as data.
    prompt = json.dumps(request.body["messages"], ensure_ascii=False)
    assert deal.customer in prompt and "<data" in prompt


def test_llm_failure_falls_back_to_the_offline_answer(kb: Any, shipped_index: Any, openai_server: Any) -> None:
    settings, _, _ = shipped_index
    llm_settings = settings.model_copy(
        update={"provider": "custom", "model": "test-model", "base_url": openai_server.base_url, "max_retries": 0}
    )
    copilot = Copilot.open(llm_settings, kb)
    openai_server.script(Status(500), Status(500), Status(500))
    result = copilot.fit(deal_for("traceability", "en"))
    assert result.mode == "offline"
    assert any(n.kind == "fallback" for n in result.notices)
    assert result.verdict in {"fit", "partial", "not_fit"}


def test_unconfigured_settings_are_offline() -> None:
    assert Settings().provider == "offline"


def test_a_figure_from_a_cited_passages_title_is_grounded(offline: Copilot, kb: Any) -> None:
    """Renderers print case titles, and titles carry figures: an answer quoting one is not an invented number."""
    import re

    from copilot.grounding import Grounding
    from copilot.results import AskResult

    doc_id, title = next(
        (d.id, d.meta.title("zh"))
        for d in kb.documents.values()
        if d.meta.type == "case" and re.search(r"\d", d.meta.title("zh"))
    )
    grounding = Grounding(kb, "zh", "")
    citation = grounding.cite_doc(doc_id, title)
    assert citation is not None
    figure = re.findall(r"\d+", title)[0]
    assert figure not in grounding.hits[citation.chunk_id].text  # the figure is only in the title
    answer = f"参见案例《{title}》[1]。"
    result = AskResult(language="zh", question="q", answer=answer, found=True, text=answer, citations=[citation])
    assert not [p for p in result_problems(offline.kb, result, grounding) if figure in p]


def test_warm_up_loads_without_answering(offline: Copilot) -> None:
    offline.warm_up()  # what `nego ui` runs in the background while the server starts
    assert offline.ask("沃尔玛芒果溯源从几天缩短到几秒？").citations


def test_a_named_case_of_another_scenario_is_found_for_a_deal(offline: Copilot) -> None:
    """The deal's scenario adds candidates; it must not bury what the question names (TradeLens is shipping)."""
    result = offline.ask("What did TradeLens fail at?", deal_for("traceability", "en"))
    assert "case-tradelens" in {c.doc_id for c in result.citations}
