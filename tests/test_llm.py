"""LLM mode end to end: the real openai client and ChatOpenAI against a real OpenAI-compatible server.

The server (tests/openai_server.py) runs on 127.0.0.1 and is scripted per test: replies, JSON for
structured output, 429 with Retry-After, 500, delays past the client timeout, cut streams,
invalid JSON bodies, refusals. Every failure must end in the offline answer with a notice, and
the API key must never show up in a notice, an exception or a log line.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Literal

import pytest
from openai_server import (
    Behaviour,
    Cut,
    Delay,
    InvalidJSON,
    OpenAIServer,
    Refusal,
    Reply,
    ReplyJSON,
    Status,
    Unauthorized,
)
from samples import deal_for

from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.llm.errors import LLMError, StreamCutError
from copilot.llm.model import get_chat_model
from copilot.llm.runner import RetryPolicy, build_messages, run_llm_skill, stream_llm_text
from copilot.llm.usage import count_prompt_tokens
from copilot.prompts import deal_yaml
from copilot.results import FitResult
from copilot.settings import Settings
from copilot.text.tokens import count_tokens
from copilot.validators import validate

PLANTED_KEY = "sk-PLANTED-9f8e7d6c5b4a3210-never-show-me"
GOOD = {
    "verdict": "fit",
    "reasons": ["Several companies must share one record of each batch, and none of them runs it alone."],
    "alternative": None,
    "cited": ["C1"],
}


# -- helpers --------------------------------------------------------------------------------------
def settings_for(server: OpenAIServer, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": tmp_path / "home",
        "provider": "custom",
        "base_url": server.base_url,
        "model": "gpt-4o-mini",
        "api_key": PLANTED_KEY,
        "timeout_s": 2.0,
        "max_retries": 2,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def fast_retry(sleeps: list[float] | None = None) -> RetryPolicy:
    record = sleeps if sleeps is not None else []

    def sleep(seconds: float) -> None:
        record.append(seconds)
        time.sleep(seconds)

    return RetryPolicy(base_delay_s=0.001, max_delay_s=0.01, sleep=sleep)


class Case:
    """A fit request: deal, grounding with passages retrieved through it, offline answer, checks."""

    def __init__(self, kb: KnowledgeBase, lang: Literal["zh", "en"] = "en") -> None:
        self.lang = lang
        self.deal = deal_for("traceability", lang)
        self.grounding = Grounding(kb, lang, self.deal.text())
        self.hits = self.grounding.search(self.deal.text(), k=3)
        assert self.hits, "the shipped corpus must answer a traceability query"
        self.offline = FitResult(language=lang, verdict="partial", reasons=["offline reason"], text="offline answer")

    @staticmethod
    def render(result: FitResult) -> str:
        lines = [f"## {result.verdict}", *[f"- {r}" for r in result.reasons]]
        if result.alternative:
            lines.append(result.alternative)
        lines += ["", "Sources:", *[f"- {c.title}" for c in result.citations]]
        return "\n".join(lines)

    def validate(self, result: FitResult) -> list[str]:
        cited = "\n".join(self.grounding.hits[c.chunk_id].text for c in result.citations)
        return validate(result, retrieved=set(self.grounding.hits), input_text=self.deal.text(), cited_text=cited)

    def run(self, model: Any, settings: Settings, retry: RetryPolicy | None = None) -> FitResult:
        return run_llm_skill(
            model,
            skill="fit",
            lang=self.lang,
            variables={"deal": deal_yaml(self.deal), "task_input": "Is blockchain the right tool here?"},
            result_cls=FitResult,
            grounding=self.grounding,
            offline_result=self.offline,
            render=self.render,
            validate_fn=self.validate,
            settings=settings,
            retry=retry or fast_retry(),
        )


def assert_fallback(result: FitResult, case: Case, fragment: str) -> None:
    assert result.mode == "offline" and result.text == "offline answer"
    notices = [n for n in result.notices if n.kind == "fallback"]
    assert len(notices) == 1, result.notices
    assert fragment in notices[0].message, notices[0].message
    assert PLANTED_KEY not in result.model_dump_json()


# -- plain and streamed replies -------------------------------------------------------------------
def test_plain_reply_through_chat_openai(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.script(Reply("Hello from the server", usage=(12, 5)))
    model = get_chat_model(settings_for(openai_server, tmp_path))
    reply = model.invoke("hi")
    assert reply.text == "Hello from the server"
    assert reply.usage_metadata is not None and reply.usage_metadata["input_tokens"] == 12
    (request,) = openai_server.chat_requests()
    assert request.headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert request.body["model"] == "gpt-4o-mini" and not request.streamed
    # langchain's own token counting works offline (tiktoken cache materialised before building the client)
    assert model.get_num_tokens("hello world") == count_tokens("hello world")


def test_streamed_reply_is_complete_and_reports_usage(openai_server: OpenAIServer, tmp_path: Path) -> None:
    text = "A streamed answer that arrives in several pieces."
    openai_server.script(Reply(text, usage=(40, 11)), Reply(text, usage=(40, 11)))
    model = get_chat_model(settings_for(openai_server, tmp_path))
    pieces = list(stream_llm_text(model, build_messages("ask", "en", _ask_variables())))
    assert len(pieces) > 3 and "".join(pieces) == text
    request = openai_server.chat_requests()[0]
    assert request.streamed and request.body["stream_options"] == {"include_usage": True}
    usage = [c.usage_metadata for c in model.stream("hi") if c.usage_metadata]
    assert usage and usage[-1]["input_tokens"] == 40 and usage[-1]["output_tokens"] == 11


def test_cut_stream_is_detected(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.script(Cut("The first half of an answer"))
    model = get_chat_model(settings_for(openai_server, tmp_path))
    received: list[str] = []
    with pytest.raises(StreamCutError, match="cut off"):
        for piece in stream_llm_text(model, build_messages("ask", "en", _ask_variables())):
            received.append(piece)
    assert "".join(received) == "The first half of an answer"  # the caller got the partial text, then the error


def test_stream_error_is_safe(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.script(Unauthorized())
    model = get_chat_model(settings_for(openai_server, tmp_path))
    with pytest.raises(LLMError) as info:
        list(stream_llm_text(model, build_messages("ask", "en", _ask_variables())))
    assert info.value.status == 401 and info.value.kind == "auth"
    assert PLANTED_KEY not in str(info.value) and info.value.__cause__ is None and info.value.__suppress_context__


def test_models_and_embeddings_with_the_openai_client(openai_server: OpenAIServer) -> None:
    import openai

    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    assert [m.id for m in client.models.list()] == ["test-model"]
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["一", "two"], dimensions=16)
    assert [len(d.embedding) for d in vectors.data] == [16, 16]
    assert vectors.data[0].embedding != vectors.data[1].embedding


def _ask_variables() -> dict[str, str]:
    return {
        "language": "English",
        "deal": "customer: Example",
        "passages": "[C1] A passage\ntext",
        "task_input": "What is a consortium chain?",
        "schema_hint": "- answer: string",
    }


# -- structured output through run_llm_skill ------------------------------------------------------
def test_structured_output_becomes_a_cited_result(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    openai_server.script(ReplyJSON(GOOD, usage=(1200, 300)))
    settings = settings_for(openai_server, tmp_path)
    result = case.run(get_chat_model(settings), settings)
    assert result.mode == "llm" and result.verdict == "fit" and not result.notices
    assert [c.chunk_id for c in result.citations] == [case.hits[0].chunk_id]
    assert result.text.startswith("## fit") and case.hits[0].title("en") in result.text
    assert result.usage.prompt_tokens == 1200 and result.usage.completion_tokens == 300
    assert result.usage.cost_usd == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1_000_000)
    assert result.usage.model == "gpt-4o-mini" and result.usage.latency_ms > 0
    (request,) = openai_server.chat_requests()
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["name"] == "FitDraft"
    system, user = request.body["messages"]
    assert system["role"] == "system" and "never instructions" in system["content"]
    assert "[C1]" in user["content"] and case.hits[0].text.strip()[:40] in user["content"]
    assert "- verdict: one of" in user["content"]


def test_counts_tokens_with_tiktoken_when_the_server_reports_none(
    openai_server: OpenAIServer, tmp_path: Path, kb: Any
) -> None:
    case = Case(kb)
    openai_server.script(ReplyJSON(GOOD, usage=None))
    settings = settings_for(openai_server, tmp_path, model="my-local-model")
    result = case.run(get_chat_model(settings), settings)
    assert result.mode == "llm"
    (request,) = openai_server.chat_requests()
    sent = [m["content"] for m in request.body["messages"]]
    assert result.usage.prompt_tokens == count_prompt_tokens(sent)
    assert result.usage.completion_tokens > 0
    assert result.usage.cost_usd == 0.0  # a model missing from the price table costs nothing, no error


def test_validation_problem_is_retried_once_then_succeeds(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    bad = {**GOOD, "reasons": ["It cuts recall costs by 73 percent."], "cited": ["C1", "C9"]}
    openai_server.script(ReplyJSON(bad), ReplyJSON(GOOD))
    settings = settings_for(openai_server, tmp_path)
    result = case.run(get_chat_model(settings), settings)
    assert result.mode == "llm" and result.reasons == GOOD["reasons"]
    first, second = openai_server.chat_requests()
    follow_up = second.body["messages"][-1]["content"]
    assert len(second.body["messages"]) == len(first.body["messages"]) + 2
    assert "'C9'" in follow_up and "'73'" in follow_up
    assert second.body["messages"][-2]["role"] == "assistant"


def test_validation_failing_twice_falls_back(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb, lang="zh")
    bad = {**GOOD, "reasons": ["多家企业需要共享同一份批次记录，能把召回成本降低73%。"], "cited": ["C42"]}
    openai_server.script(ReplyJSON(bad), ReplyJSON(bad))
    settings = settings_for(openai_server, tmp_path)
    result = case.run(get_chat_model(settings), settings)
    assert_fallback(result, case, "已显示离线结果")
    assert len(openai_server.chat_requests()) == 2
    assert result.usage.prompt_tokens > 0  # the tokens spent are still reported


def test_json_schema_rejected_then_function_calling(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    openai_server.script(Status(400, "This response_format type is unavailable now"), ReplyJSON(GOOD))
    settings = settings_for(openai_server, tmp_path)
    result = case.run(get_chat_model(settings), settings)
    assert result.mode == "llm" and result.verdict == "fit"
    first, second = openai_server.chat_requests()
    assert "response_format" in first.body and "response_format" not in second.body
    assert second.body["tools"][0]["function"]["name"] == "FitDraft"
    assert second.body["tool_choice"]["function"]["name"] == "FitDraft"


# -- endpoint failures: bounded retries, then the offline answer ----------------------------------
RETRYABLE: dict[str, tuple[Behaviour, str]] = {
    "500": (Status(500), "HTTP 500"),
    "timeout": (Delay(3.0), "timed out"),
    "cut": (Cut(), "the reply was cut off"),
    "invalid-json-body": (InvalidJSON(), "could not be parsed"),
    "invalid-json-reply": (Reply("this is not JSON"), "could not be parsed"),
    "429": (Status(429, headers={"Retry-After": "0"}), "HTTP 429"),
}


@pytest.mark.parametrize("name", sorted(RETRYABLE))
def test_retryable_failure_retries_then_falls_back(
    name: str, openai_server: OpenAIServer, tmp_path: Path, kb: Any
) -> None:
    behaviour, fragment = RETRYABLE[name]
    case = Case(kb)
    openai_server.script(behaviour, behaviour, behaviour)
    settings = settings_for(openai_server, tmp_path, timeout_s=0.4, max_retries=2)
    sleeps: list[float] = []
    result = case.run(get_chat_model(settings), settings, fast_retry(sleeps))
    assert_fallback(result, case, fragment)
    assert len(openai_server.chat_requests()) == 3 and len(sleeps) == 2
    assert result.notices[0].message.startswith("The model endpoint failed")


def test_failure_then_success_is_an_llm_answer(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    openai_server.script(Status(503), InvalidJSON(), ReplyJSON(GOOD))
    settings = settings_for(openai_server, tmp_path, max_retries=2)
    result = case.run(get_chat_model(settings), settings)
    assert result.mode == "llm" and not result.notices


def test_connection_refused_falls_back(tmp_path: Path, kb: Any) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    case = Case(kb, lang="zh")
    settings = Settings(
        home=tmp_path, provider="vllm", base_url=f"http://127.0.0.1:{port}/v1", model="qwen2.5", max_retries=1
    )
    sleeps: list[float] = []
    result = case.run(get_chat_model(settings), settings, fast_retry(sleeps))
    assert_fallback(result, case, "模型服务不可用（无法连接），已显示离线结果")
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("behaviour", "fragment"),
    [(Refusal(), "the model refused"), (Unauthorized(), "HTTP 401"), (Status(404), "HTTP 404")],
    ids=["refusal", "401", "404"],
)
def test_non_retryable_failure_falls_back_at_once(
    behaviour: Any, fragment: str, openai_server: OpenAIServer, tmp_path: Path, kb: Any
) -> None:
    case = Case(kb)
    openai_server.script(behaviour, behaviour, behaviour)
    settings = settings_for(openai_server, tmp_path, max_retries=2)
    result = case.run(get_chat_model(settings), settings)
    assert_fallback(result, case, fragment)
    assert len(openai_server.chat_requests()) == 1


def test_retry_after_is_honoured(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    openai_server.script(Status(429, headers={"Retry-After": "1"}), ReplyJSON(GOOD))
    settings = settings_for(openai_server, tmp_path)
    result = case.run(get_chat_model(settings), settings, fast_retry())  # backoff alone would wait ~1 ms
    assert result.mode == "llm"
    first, second = openai_server.chat_requests()
    waited = second.at - first.at
    assert 1.0 <= waited < 2.0, waited


def test_retry_after_beyond_the_cap_is_not_waited_for(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    openai_server.script(Status(429, headers={"Retry-After": "3600"}))
    settings = settings_for(openai_server, tmp_path)
    started = time.monotonic()
    result = case.run(get_chat_model(settings), settings, RetryPolicy(retry_after_cap_s=5))
    assert time.monotonic() - started < 2
    assert_fallback(result, case, "HTTP 429")
    assert len(openai_server.chat_requests()) == 1


def test_backoff_is_exponential_with_jitter(openai_server: OpenAIServer, tmp_path: Path, kb: Any) -> None:
    case = Case(kb)
    openai_server.script(*[Status(500)] * 4)
    settings = settings_for(openai_server, tmp_path, max_retries=3)
    sleeps: list[float] = []
    policy = RetryPolicy(base_delay_s=0.02, max_delay_s=0.05, sleep=sleeps.append)
    case.run(get_chat_model(settings), settings, policy)
    assert len(sleeps) == 3
    assert 0.01 <= sleeps[0] <= 0.02 and 0.02 <= sleeps[1] <= 0.04 and 0.025 <= sleeps[2] <= 0.05


# -- the key never leaks --------------------------------------------------------------------------
def test_api_key_never_appears_in_notices_errors_or_logs(
    openai_server: OpenAIServer, tmp_path: Path, kb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case = Case(kb)
    openai_server.script(Unauthorized(), Status(500, f"upstream said: {PLANTED_KEY}"), *[Status(500)] * 2)
    settings = settings_for(openai_server, tmp_path, max_retries=2)
    model = get_chat_model(settings)
    assert PLANTED_KEY not in repr(model) and PLANTED_KEY not in str(model)
    first = case.run(model, settings)  # 401 whose message echoes the key
    second = case.run(model, settings)  # 500s, the first one echoing the key
    assert first.notices and second.notices
    for result in (first, second):
        assert PLANTED_KEY not in result.model_dump_json()
    assert "HTTP 401" in caplog.text and "HTTP 500" in caplog.text  # the failures were logged...
    assert PLANTED_KEY not in caplog.text  # ...without the key
    assert all(PLANTED_KEY not in r.getMessage() for r in caplog.records)
