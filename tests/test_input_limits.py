"""What goes to a skill and to the model: cleaned text, cut to a token budget, with the user told.

Chat messages that are empty, whitespace, 200k characters, binary garbage, mixed scripts or emoji
each get a clear message or an answer (never a crash); oversized text is cut with tiktoken and a
"truncated" notice in both languages; in LLM mode the prompt is fitted to the model's context
(lowest-ranked passages first, then the task input) and the request the real test server records
fits the budget.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai_server import OpenAIServer, ReplyJSON
from pydantic import SecretStr
from samples import deal_for

from copilot.chat import with_context
from copilot.core import EMPTY_MESSAGE, QUOTE_SHOWN_CHARS, ChatEvent, ChatTurn, Copilot
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.inputs import EmptyInputError, fit_deal, prepare_text
from copilot.llm.budget import MIN_PASSAGES, PromptTooLargeError, fit_prompt
from copilot.llm.draft import draft_model, schema_hint
from copilot.llm.fake import ScriptedChatModel
from copilot.llm.runner import run_llm_skill
from copilot.llm.usage import count_prompt_tokens
from copilot.prompts import language_name
from copilot.results import AskResult, BriefResult, FitResult
from copilot.settings import Settings
from copilot.text.lang import detect_language
from copilot.text.limits import clean_text, cut_to_tokens, shorten
from copilot.text.tokens import count_tokens

LONG_EN = "How did Walmart trace mangoes, and how long did it take? "
LONG_ZH = "沃尔玛芒果溯源从几天缩短到几秒？供应商各用各的系统，记录对不上。"


@pytest.fixture(scope="module")
def offline(kb: Any, shipped_index: Any) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings, kb)


def run_chat(copilot: Copilot, message: str, deal: Deal | None = None) -> list[ChatEvent]:
    return list(copilot.chat(message, [], deal or deal_for("traceability", "zh")))


def result_of(events: list[ChatEvent]) -> Any:
    return next(e.result for e in events if e.kind == "result")


# -- cleaning -------------------------------------------------------------------------------------
def test_clean_text_removes_garbage_and_keeps_text() -> None:
    dirty = "\ufeff  沃尔玛\x00芒果\x07溯源\ufffd\ufffd\ufffd\r\n第二行\tTab\x1b[31m\x7f\x85 \ud800end\udfff  "
    cleaned = clean_text(dirty)
    assert cleaned.text == "沃尔玛芒果溯源\n第二行\tTab[31m end"
    assert cleaned.removed == 11
    kept = "👩‍💻 ❤️ 🇨🇳 naïve café Ελληνικά العربية 日本語 한국어 ① ½"
    assert clean_text(kept).text == kept and clean_text(kept).removed == 0
    cleaned.text.encode("utf-8")  # lone surrogates are gone: the text can be encoded


def test_language_detection_survives_anything() -> None:
    for text in ("", "🚀🔥😅", "\x00\x01", "12345 %%%", "Ελληνικά", "🚀 TradeLens 为什么失败？what went wrong 😅"):
        assert detect_language(text, default="zh") in ("zh", "en")
    assert detect_language("🚀🔥", default="en") == "en"


# -- cutting with tiktoken ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [LONG_EN * 400, LONG_ZH * 400, "a" * 50_000, "😅👩‍💻" * 5000, "1234567890" * 3000, (LONG_ZH + LONG_EN) * 300],
    ids=["en", "zh", "one-word", "emoji", "digits", "mixed"],
)
def test_cut_keeps_a_prefix_within_the_budget(text: str) -> None:
    cut = cut_to_tokens(text, 500)
    assert cut.was_cut and cut.total_chars == len(text) and cut.kept_chars == len(cut.text)
    assert text.startswith(cut.text)
    assert count_tokens(cut.text) == cut.kept_tokens <= 500
    assert cut.kept_tokens >= 490  # not far below the budget either
    assert "\ufffd" not in cut.text  # no character split in half


def test_short_text_is_not_cut() -> None:
    cut = cut_to_tokens("PBFT 是什么？", 500)
    assert not cut.was_cut and cut.text == "PBFT 是什么？"
    assert cut.kept_tokens == count_tokens("PBFT 是什么？")


def test_shorten_never_splits_a_word_or_a_number() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("recall costs fell 12345 dollars", 21) == "recall costs fell…"
    assert shorten("沃尔玛芒果溯源从7天缩短到2.2秒", 10) == "沃尔玛芒果溯源从7天…"
    assert shorten("a" * 50, 10) == "a" * 10 + "…"  # one long word: cut anyway


def test_prepare_text_notices_in_both_languages() -> None:
    settings = Settings(input_max_tokens=300)
    prepared = prepare_text(LONG_EN * 1000 + "\x00", settings)
    (info, truncated) = prepared.notices
    assert info.kind == "info" and "控制字符" in info.message and "1 control" in info.message
    assert truncated.kind == "truncated"
    kept = count_tokens(prepared.text)
    assert kept <= 300
    assert f"{kept:,} 个词元" in truncated.message and f"first {kept:,} tokens" in truncated.message
    assert f"{len(prepared.text):,} of {len(LONG_EN) * 1000 + 1:,} characters" in truncated.message  # as sent
    assert prepare_text("  \n\t\x00\u200b\ufffd ", settings).empty


# -- the deal's free text -------------------------------------------------------------------------
def test_huge_deal_is_cut_fairly_and_said_so() -> None:
    settings = Settings(input_max_tokens=1000)
    item = ("二级供应商融资难，账期长达90天，银行无法核实贸易背景。" * 30)[:500]
    deal = Deal(
        customer="华东汽配集团",
        scenario="supply_chain_finance",
        audience=["CFO"] * 3,
        pains=[item] * 30,
        goals=[item.replace("融资难", "目标")] * 30,
        systems=["用友ERP"],
    )
    fitted, notices = fit_deal(deal, settings)
    assert count_tokens(fitted.text()) <= 1000
    assert len(fitted.pains) == 30 and len(fitted.goals) == 30  # every item kept, each shorter
    assert fitted.audience == ["CFO"] * 3 and fitted.systems == ["用友ERP"] and fitted.customer == "华东汽配集团"
    assert all(p.endswith("…") and item.startswith(p[:-1]) for p in fitted.pains)
    assert fitted.language == deal.language == "zh"
    (notice,) = notices
    assert (
        notice.kind == "truncated"
        and "交易信息过长" in notice.message
        and "The deal's text is too long" in notice.message
    )


def test_small_deal_is_untouched_and_garbage_is_cleaned() -> None:
    deal = deal_for("traceability", "zh")
    assert fit_deal(deal, Settings()) == (deal, [])
    dirty = deal.model_copy(update={"pains": ["出了质量问题\x00要3天\ufffd才能追到", "\x01\x02"]})
    fitted, notices = fit_deal(dirty, Settings())
    assert fitted.pains == ["出了质量问题要3天才能追到"]
    assert [n.kind for n in notices] == ["info"]


# -- chat-message hygiene -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message", ["", "   ", "\n\t \r\n", "\x00\x01\x1b", "\ufffd\ufffd", "\ud800\udc00\ufeff", "\u200b\u200d\u3000"]
)
def test_empty_messages_get_a_message_and_no_skill_runs(offline: Copilot, message: str) -> None:
    events = run_chat(offline, message)
    assert [e.kind for e in events] == ["notice", "done"]
    notice = events[0].notice
    assert notice is not None and notice.message == EMPTY_MESSAGE
    assert "请输入问题" in notice.message and "type a question" in notice.message


def test_oversized_message_is_cut_and_answered(offline: Copilot) -> None:
    message = (LONG_EN * 4000)[:200_000]
    events = run_chat(offline, message, deal_for("traceability", "en"))
    result = result_of(events)
    assert result.skill == "ask" and result.found and result.language == "en"
    (notice,) = [n for n in result.notices if n.kind == "truncated"]
    # One language (the user's), what was kept and why, and what the rest can be used for (issue 18).
    assert "200,000 characters" in notice.message and "个字符" not in notice.message
    assert "only its first" in notice.message and "knowledge-base note" in notice.message
    assert len(result.question) <= QUOTE_SHOWN_CHARS + 1 and result.question.endswith("…")
    assert len(result.text) < 6000  # the answer quotes the question, it does not echo the whole input
    assert [e.notice for e in events if e.kind == "notice"] == result.notices


def test_binary_garbage_is_cleaned_and_answered(offline: Copilot) -> None:
    message = "沃尔玛\x00芒果\x07溯源\ufffd\ufffd从几天\ud800缩短到几秒？\x1b"
    result = result_of(run_chat(offline, message))
    assert result.skill == "ask" and result.found
    assert result.question == "沃尔玛芒果溯源从几天缩短到几秒？"
    assert any(n.kind == "info" and "6 control" in n.message for n in result.notices)


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("🚀 TradeLens 为什么失败了？有什么教训 😅", "zh"),
        ("What did TradeLens fail at? 😅🔥 Was ist passiert?", "en"),
        ("👩‍💻🇨🇳❤️", "zh"),
        ("Ελληνικά العربية 日本語 한국어", "zh"),
    ],
)
def test_mixed_scripts_and_emoji_are_answered(offline: Copilot, message: str, lang: str) -> None:
    events = run_chat(offline, message)
    result = result_of(events)
    assert result.language == lang and result.text
    assert not [n for n in result.notices if n.kind in ("truncated", "info")]


def test_skills_cut_their_free_text_and_refuse_empty_text(offline: Copilot) -> None:
    deal = deal_for("traceability", "en")
    explained = offline.explain(deal, "PBFT consensus and Merkle trees. " * 3000)
    objection = offline.objection(deal, "Why not just a shared database? " * 3000)
    asked = offline.ask(LONG_EN * 3000)
    for result in (explained, objection, asked):
        assert any(n.kind == "truncated" for n in result.notices), result.skill
    assert count_tokens(objection.objection) <= offline.settings.input_max_tokens
    with pytest.raises(EmptyInputError, match="The text to explain is empty"):
        offline.explain(deal, " \x00 ")
    with pytest.raises(EmptyInputError, match="异议文本是空的"):
        offline.objection(deal, "")
    with pytest.raises(EmptyInputError, match="The question is empty"):
        offline.ask("\t")


def test_follow_up_context_stays_within_the_budget() -> None:
    settings = Settings(input_max_tokens=200)
    history = [ChatTurn(role="user", content=LONG_ZH * 500), ChatTurn(role="assistant", content="…")]
    combined = with_context("那欧盟呢？", history, settings)
    assert combined.endswith("\n那欧盟呢？") and count_tokens(combined) <= 200


# -- the model's context --------------------------------------------------------------------------
def _variables(draft_cls: Any, lang: str, deal: Deal, task: str) -> dict[str, Any]:
    from copilot.prompts import deal_yaml

    return {
        "language": language_name(lang),
        "schema_hint": schema_hint(draft_cls),
        "deal": deal_yaml(deal),
        "task_input": task,
    }


def test_fit_prompt_drops_lowest_ranked_passages_first(kb: Any) -> None:
    deal = deal_for("traceability", "en")
    grounding = Grounding(kb, "en", deal.text())
    for query in ("consortium chain traceability", "recall costs", "data sharing suppliers", "GS1 standards"):
        grounding.search(query, k=5)
    hits = list(grounding.hits.values())
    assert len(hits) >= 8
    draft = draft_model(AskResult)
    variables = _variables(draft, "en", deal, "What does the buyer gain?")
    roomy = fit_prompt("ask", "en", variables, hits, Settings(context_tokens=100_000))
    assert len(roomy.by_id) == len(hits) and roomy.notice(Settings()) is None
    settings = Settings(context_tokens=4096, reply_tokens=1024)
    fitted = fit_prompt("ask", "en", variables, hits, settings)
    kept = list(fitted.by_id.values())
    assert fitted.tokens <= 4096 - 1024 and MIN_PASSAGES <= len(kept) < len(hits)
    assert fitted.tokens == count_prompt_tokens([m.text for m in fitted.messages])
    dropped = [h for h in hits if h not in kept]
    assert max(h.score for h in dropped) <= min(h.score for h in kept)  # the lowest-ranked went first
    assert [h.chunk_id for h in kept] == [h.chunk_id for h in hits if h in kept]  # order kept, C1… renumbered
    assert fitted.cuts == {}  # the task input was not touched while passages could go
    notice = fitted.notice(settings)
    assert notice is not None and notice.kind == "truncated"
    assert f"{len(dropped)} lower-ranked passages left out" in notice.message and "略去" in notice.message


def test_fit_prompt_cuts_the_task_input_after_the_passages(kb: Any) -> None:
    deal = deal_for("traceability", "en")
    grounding = Grounding(kb, "en", deal.text())
    hits = grounding.search("consortium chain traceability", k=5)
    draft = draft_model(AskResult)
    settings = Settings(context_tokens=4096, reply_tokens=1024, input_max_tokens=20_000)
    task = LONG_EN * 600
    fitted = fit_prompt("ask", "en", _variables(draft, "en", deal, task), hits, settings)
    assert fitted.tokens <= 3072 and len(fitted.by_id) == MIN_PASSAGES
    kept, before = fitted.cuts["task_input"]
    assert before == count_tokens(task) and kept < before
    notice = fitted.notice(settings)
    assert notice is not None and f"the input text cut to its first {kept:,} of {before:,} tokens" in notice.message


def test_a_context_too_small_for_the_instructions_falls_back_without_a_request(kb: Any, tmp_path: Path) -> None:
    deal = deal_for("traceability", "zh")
    settings = Settings(home=tmp_path, context_tokens=2048, reply_tokens=1000)
    draft = draft_model(BriefResult)
    with pytest.raises(PromptTooLargeError):
        fit_prompt("brief", "zh", _variables(draft, "zh", deal, "horizon_months: 12"), [], settings)
    model = ScriptedChatModel(script=[])
    offline = FitResult(language="zh", verdict="partial", reasons=["离线理由"], text="离线回答")
    result = run_llm_skill(
        model,
        skill="brief",
        lang="zh",
        variables={"deal": "customer: x", "task_input": "horizon_months: 12"},
        result_cls=BriefResult,
        grounding=Grounding(kb, "zh"),
        offline_result=offline,
        render=lambda r: "",
        validate_fn=lambda r: [],
        settings=settings,
    )
    assert result.text == "离线回答" and model.prompts == []
    (notice,) = result.notices
    assert notice.kind == "fallback" and "context_tokens" in notice.message


def test_a_retry_that_would_not_fit_leaves_the_earlier_answer_out(kb: Any, tmp_path: Path) -> None:
    deal = deal_for("traceability", "en")
    grounding = Grounding(kb, "en", deal.text())
    for query in ("consortium chain traceability", "recall costs", "data sharing suppliers", "GS1 standards"):
        grounding.search(query, k=5)
    settings = Settings(home=tmp_path, context_tokens=4096, reply_tokens=1024)
    huge = {"verdict": "fit", "reasons": ["Shared batch records. " * 400], "alternative": None, "cited": ["C99"]}
    good = {"verdict": "fit", "reasons": ["Several firms share one batch record."], "alternative": None}
    model = ScriptedChatModel(script=[huge, {**good, "cited": ["C1"]}])
    offline = FitResult(language="en", verdict="partial", reasons=["offline"], text="offline answer")
    result = run_llm_skill(
        model,
        skill="fit",
        lang="en",
        variables={"deal": "customer: FreshCo", "task_input": "Is blockchain the right tool?"},
        result_cls=FitResult,
        grounding=grounding,
        offline_result=offline,
        render=lambda r: "## fit\n" + "\n".join(r.reasons),
        validate_fn=lambda r: [],
        settings=settings,
    )
    assert result.mode == "llm", result.notices
    _, second = model.prompts
    assert [m.type for m in second] == ["system", "human", "human"]  # no AI message: it would not fit
    assert "C99" in second[-1].text
    schema = count_tokens(json.dumps(draft_model(FitResult).model_json_schema()))
    assert count_prompt_tokens([m.text for m in second]) + schema <= 4096 - 1024


def test_oversized_input_request_fits_the_context(kb: Any, openai_server: OpenAIServer, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home",
        provider="custom",
        base_url=openai_server.base_url,
        model="test-model",
        api_key=SecretStr("sk-test"),
        max_retries=0,
        context_tokens=4096,
        reply_tokens=1024,
        input_max_tokens=6000,
    )
    copilot = Copilot.open(settings, kb)
    reply = {"question": "How did Walmart trace mangoes?", "answer": "Much faster, per the case.", "found": True}
    openai_server.script(ReplyJSON({**reply, "cited": ["C1"]}))
    result = copilot.ask(LONG_EN * 4000)
    assert result.mode == "llm", result.notices
    (request,) = openai_server.chat_requests()
    sent = [m["content"] for m in request.body["messages"]]
    schema = json.dumps(request.body["response_format"]["json_schema"]["schema"])
    assert count_prompt_tokens(sent) + count_tokens(schema) <= 4096 - 1024
    truncated = [n.message for n in result.notices if n.kind == "truncated"]
    assert len(truncated) == 2, result.notices  # the input cut (6,000 tokens), then the prompt fitted
    assert "6,000 tokens" in truncated[0]
    assert "The prompt did not fit the model's context (4,096 tokens, 1,024 kept for the answer)" in truncated[1]
    assert "the input text cut to its first" in truncated[1]


# -- the app: an empty message is not sent, a long one is stored as read ----------------------------
def test_ui_refuses_empty_and_stores_what_the_copilot_read(
    offline: Copilot, shipped_index: Any, tmp_path: Path
) -> None:
    from copilot.history import History
    from ui.chat import stream_reply
    from ui.context import AppContext
    from ui.deal_form import form_values, values_from_deal

    _, store, _ = shipped_index
    settings = offline.settings.model_copy(update={"home": tmp_path / "home"})
    ctx = AppContext(settings, store, offline, History.open(settings), tmp_path / "files")
    values = form_values(*values_from_deal(deal_for("traceability", "zh")))
    outputs = list(stream_reply(ctx, " \x00\t ", None, values, ""))
    assert len(outputs) == 1 and EMPTY_MESSAGE in outputs[0][3]
    assert ctx.history.list_conversations("") == []  # nothing stored, nothing answered
    outputs = list(stream_reply(ctx, (LONG_ZH * 5000)[:200_000], None, values, ""))
    (conversation,) = ctx.history.list_conversations("")
    user, reply = ctx.history.get(conversation.id, "").messages
    assert count_tokens(user.content) <= settings.input_max_tokens and LONG_ZH.startswith(user.content[:10])
    assert reply.status == "complete" and any(n.kind == "truncated" for n in reply.notices)
    assert "✂" in outputs[0][3] and "✂" in outputs[-1][3]  # shown under the chat at once and at the end
