"""True streaming in LLM mode: the model's tokens reach the caller while the model is still writing.

Against the real OpenAI-compatible test server streaming a structured answer a few characters at
a time (tests/openai_server.py `Trickle`, SSE): the first text event is seen before the server
sends the last piece; the validators run on the finished draft; a draft they reject is replaced
by the checked answer with a visible notice; the CLI (`nego ask`, `nego chat`) and the chat
events carry the same.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from openai_server import OpenAIServer, ReplyJSON, Trickle
from pydantic import SecretStr
from samples import deal_for
from typer.testing import CliRunner

from copilot.core import ChatEvent, Copilot
from copilot.llm.runner import correction_notice, is_correction
from copilot.llm.streaming import DraftPreview
from copilot.settings import Settings
from nego.cli import app

QUESTION = "沃尔玛芒果溯源从几天缩短到几秒？"
ANSWER = "资料显示，沃尔玛芒果的溯源时间被大幅缩短：过去要按天计算的追溯工作，上链后可以在很短的时间内完成。"
GOOD = {"question": QUESTION, "answer": ANSWER, "found": True, "cited": ["C1"]}
BAD = {**GOOD, "cited": ["C99"]}  # a passage that was not retrieved: rejected by the checks


def llm_copilot(kb: Any, server: OpenAIServer, tmp_path: Path) -> Copilot:
    settings = Settings(
        home=tmp_path / "home",
        provider="custom",
        base_url=server.base_url,
        model="test-model",
        api_key=SecretStr("sk-test"),
        max_retries=0,
    )
    copilot = Copilot.open(settings, kb)
    assert copilot.mode == "llm"
    return copilot


def timed(events: Any) -> list[tuple[float, ChatEvent]]:
    return [(time.monotonic(), event) for event in events]


# -- the preview of a draft being written -----------------------------------------------------------
def test_the_preview_grows_with_the_json_and_leaves_out_ids_and_the_echoed_question() -> None:
    preview = DraftPreview()
    text = '{"question": "Q?", "answer": "Walmart cut the trace", "points": ["one", "two"], "cited": ["C1"]}'
    shown = [s for s in (preview.feed(text[i : i + 5]) for i in range(0, len(text), 5)) if s is not None]
    assert shown[-1] == "Walmart cut the trace\n\none\n\ntwo"
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(shown))
    assert not any("Q?" in s or "C1" in s for s in shown)


def test_a_redaction_placeholder_is_shown_only_complete_and_restored() -> None:
    preview = DraftPreview(restore=lambda t: t.replace("[PHONE_1]", "138 1234 5678"))
    text = '{"answer": "Call [PHONE_1] today"}'
    shown = [s for s in (preview.feed(ch) for ch in text) if s is not None]
    assert not any("[PHO" in s for s in shown)
    assert shown[-1] == "Call 138 1234 5678 today"


# -- end to end against the test server ---------------------------------------------------------------
def test_tokens_arrive_before_the_model_has_finished(kb: Any, openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.script(Trickle(GOOD, interval_s=0.03, piece_chars=6))
    copilot = llm_copilot(kb, openai_server, tmp_path)
    got: list[Any] = []
    events = timed(copilot.stream(lambda: copilot.ask(QUESTION), got.append))
    texts = [(t, e) for t, e in events if e.kind == "text"]
    assert len(texts) >= 5, "the draft came in many pieces, as the server sent them"
    assert texts[0][0] < openai_server.sent_at[-1], "the first token was seen before the last one was sent"
    assert "".join(e.text or "" for _, e in texts) == ANSWER
    (request,) = openai_server.chat_requests()
    assert request.streamed and request.body["response_format"]["type"] == "json_schema"
    result = got[0]
    assert result.mode == "llm" and result.answer == ANSWER and not any(is_correction(n) for n in result.notices)
    last = events[-1][1]
    assert last.kind == "replace" and last.result is result and last.text == result.text  # the rendered answer


def test_a_rejected_draft_is_replaced_by_the_offline_answer_with_a_notice(
    kb: Any, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(Trickle(BAD), ReplyJSON(BAD))
    copilot = llm_copilot(kb, openai_server, tmp_path)
    got: list[Any] = []
    events = [e for _, e in timed(copilot.stream(lambda: copilot.ask(QUESTION), got.append))]
    assert "".join(e.text or "" for e in events if e.kind == "text") == ANSWER  # shown while it came
    result = got[0]
    assert result.mode == "offline"
    assert correction_notice("zh", "validation") in result.notices
    assert events[-1].kind == "replace" and events[-1].text == result.text
    first, second = openai_server.chat_requests()
    assert first.streamed and not second.streamed  # the retry is checked before anything of it is shown


def test_a_draft_fixed_on_retry_is_still_announced_as_a_correction(
    kb: Any, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(Trickle(BAD), ReplyJSON(GOOD))
    copilot = llm_copilot(kb, openai_server, tmp_path)
    got: list[Any] = []
    list(copilot.stream(lambda: copilot.ask(QUESTION), got.append))
    assert got[0].mode == "llm" and any(is_correction(n) for n in got[0].notices)


def test_chat_events_stream_the_draft_then_the_checked_reply(
    kb: Any, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(Trickle(GOOD))
    copilot = llm_copilot(kb, openai_server, tmp_path)
    events = list(copilot.chat(QUESTION, [], deal_for("traceability", "zh")))
    kinds = [e.kind for e in events]
    assert kinds[0] == "route" and kinds[1] == "text" and kinds[-2:] == ["result", "done"]
    final = next(e for e in events if e.kind == "replace")
    result = events[-2].result
    assert final.result is result and final.text == result.text and result.mode == "llm"
    assert kinds.index("replace") < kinds.index("citations")


# -- the CLI -------------------------------------------------------------------------------------
def cli_env(shipped_index: Any, server: OpenAIServer) -> dict[str, str]:
    settings, _, _ = shipped_index
    return {
        "NEGO_HOME": str(settings.home),
        "NEGO_PROVIDER": "custom",
        "NEGO_BASE_URL": server.base_url,
        "NEGO_MODEL": "test-model",
        "NEGO_API_KEY": "sk-test",
        "NEGO_MAX_RETRIES": "0",
    }


@pytest.mark.parametrize("accepted", [True, False])
def test_nego_ask_streams_and_shows_a_correction(
    shipped_index: Any, openai_server: OpenAIServer, accepted: bool
) -> None:
    openai_server.script(*((Trickle(GOOD),) if accepted else (Trickle(BAD), ReplyJSON(BAD))))
    out = CliRunner().invoke(app, ["ask", QUESTION], env=cli_env(shipped_index, openai_server))
    assert out.exit_code == 0, out.output
    assert openai_server.chat_requests()[0].streamed
    stdout = out.stdout
    assert stdout.startswith(ANSWER)  # the draft, as it came
    if accepted:
        assert "## 来源" in stdout and correction_notice("zh", "validation").message not in out.stderr
    else:
        assert correction_notice("zh", "validation").message in out.stderr
        assert stdout.count("# ") >= 1 and len(stdout) > len(ANSWER) + 10  # the offline answer follows


def test_nego_chat_streams_each_turn(shipped_index: Any, openai_server: OpenAIServer) -> None:
    openai_server.script(Trickle(GOOD))
    out = CliRunner().invoke(
        app,
        ["chat", "--scenario", "traceability"],
        input=QUESTION + "\n/exit\n",
        env=cli_env(shipped_index, openai_server),
    )
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith(ANSWER) and "## 来源" in out.stdout
