"""The LLM layer's parts without a server: model settings, API keys, prices, drafts and the scripted fake."""

from __future__ import annotations

import email.utils
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from samples import deal_for

from copilot.grounding import Grounding
from copilot.llm.draft import draft_model, result_from_draft, schema_hint
from copilot.llm.errors import ModelConfigError, StreamCutError
from copilot.llm.failures import Failure, classify, retry_after_seconds
from copilot.llm.fake import CutReply, ScriptedChatModel
from copilot.llm.model import describe_model, get_chat_model, resolve_api_key
from copilot.llm.runner import RetryPolicy, build_messages, run_llm_skill, stream_llm_text
from copilot.llm.usage import PriceTableError, estimate_cost, load_prices, price_for, shipped_prices
from copilot.prompts import deal_yaml
from copilot.results import AskResult, BriefResult, Citation, FitResult, PlanResult
from copilot.settings import Settings

KEY = "sk-settings-0123456789abcdef"


# -- model settings -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "base_url"),
    [
        ("openai", None),
        ("deepseek", "https://api.deepseek.com/v1"),
        ("qwen", "https://dashscope.aliyuncs.com/compatible-mode/v1"),
        ("vllm", "http://127.0.0.1:8000/v1"),
        ("ollama", "http://127.0.0.1:11434/v1"),
        ("llamacpp", "http://127.0.0.1:8080/v1"),
    ],
)
def test_provider_presets(provider: str, base_url: str | None, tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"home": tmp_path, "provider": provider, "model": "m", "api_key": KEY, "timeout_s": 7.5}
    )
    model: Any = get_chat_model(settings, environ={})
    assert model.openai_api_base == base_url
    assert model.model_name == "m" and model.max_retries == 0 and model.stream_usage is True
    assert model.request_timeout == 7.5
    assert model.openai_api_key.get_secret_value() == KEY


def test_base_url_setting_wins_and_custom_needs_one(tmp_path: Path) -> None:
    model: Any = get_chat_model(
        Settings(home=tmp_path, provider="ollama", model="qwen2.5", base_url="http://gpu-box:11434/v1"), environ={}
    )
    assert model.openai_api_base == "http://gpu-box:11434/v1"
    with pytest.raises(ModelConfigError, match="NEGO_BASE_URL"):
        get_chat_model(Settings(home=tmp_path, provider="custom", model="m"), environ={})
    with pytest.raises(ModelConfigError, match="NEGO_MODEL"):
        get_chat_model(Settings(home=tmp_path, provider="vllm"), environ={})
    with pytest.raises(ModelConfigError, match="offline"):
        get_chat_model(Settings(home=tmp_path), environ={})
    with pytest.raises(ModelConfigError, match="http"):
        get_chat_model(Settings(home=tmp_path, provider="custom", model="m", base_url="localhost:8000"), environ={})


def test_api_key_order() -> None:
    env = {"DEEPSEEK_API_KEY": "sk-from-env", "OPENAI_API_KEY": "sk-openai-env"}
    assert resolve_api_key(Settings(provider="deepseek", api_key=SecretStr(KEY)), env) == KEY
    assert resolve_api_key(Settings(provider="deepseek"), env) == "sk-from-env"
    assert resolve_api_key(Settings(provider="qwen"), {"DASHSCOPE_API_KEY": "sk-dash"}) == "sk-dash"
    assert resolve_api_key(Settings(provider="vllm"), env) == "not-needed"
    assert resolve_api_key(Settings(provider="custom", base_url="http://h/v1"), env) == "sk-openai-env"
    assert resolve_api_key(Settings(provider="custom", base_url="http://h/v1"), {}) == "not-needed"


@pytest.mark.parametrize(
    ("provider", "env_name"),
    [("openai", "OPENAI_API_KEY"), ("deepseek", "DEEPSEEK_API_KEY"), ("qwen", "DASHSCOPE_API_KEY")],
)
def test_missing_key_for_a_remote_provider(provider: str, env_name: str, tmp_path: Path) -> None:
    other = {"OPENAI_API_KEY": KEY} if provider != "openai" else {"DEEPSEEK_API_KEY": KEY}
    with pytest.raises(ModelConfigError) as info:
        get_chat_model(Settings.model_validate({"home": tmp_path, "provider": provider}), environ=other)
    assert env_name in str(info.value) and "NEGO_API_KEY" in str(info.value)
    assert KEY not in str(info.value)


def test_describe_model_is_safe() -> None:
    assert describe_model(Settings()) == "offline"
    assert describe_model(Settings(provider="deepseek", api_key=SecretStr(KEY))) == "deepseek-chat @ api.deepseek.com"
    assert describe_model(Settings(provider="openai", model="gpt-4.1")) == "gpt-4.1 @ api.openai.com"
    label = describe_model(Settings(provider="custom", model="m", base_url="https://bob:hunter2@llm.corp:8443/v1"))
    assert label == "m @ llm.corp:8443"
    assert describe_model(Settings(provider="vllm")) == "(no model) @ 127.0.0.1:8000"


def test_importing_copilot_does_not_import_langchain() -> None:
    code = (
        "import sys, copilot, copilot.prompts, copilot.llm, copilot.llm.model, copilot.llm.runner; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('langchain_openai', 'openai', 'langchain_core')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- prices ---------------------------------------------------------------------------------------
def test_price_table(tmp_path: Path) -> None:
    prices = shipped_prices()
    assert price_for("gpt-4o-mini-2024-07-18", prices) == prices["gpt-4o-mini"]  # longest prefix
    assert price_for("gpt-4o-2024-08-06", prices) == prices["gpt-4o"]
    assert estimate_cost("llama3.1:8b", 10_000, 10_000, prices) == 0.0  # unknown: free, no error
    assert estimate_cost("gpt-4o-mini", 1_000_000, 1_000_000, prices) == pytest.approx(0.75)
    settings = Settings(home=tmp_path)
    (tmp_path / "prices.yaml").write_text("gpt-4o-mini: {input: 1, output: 2}\nmy-model: {input: 3, output: 4}\n")
    user = load_prices(settings)
    assert estimate_cost("gpt-4o-mini", 1_000_000, 1_000_000, user) == pytest.approx(3.0)
    assert estimate_cost("my-model", 500_000, 0, user) == pytest.approx(1.5)
    assert "qwen-plus" in user  # the rest of the shipped table stays
    (tmp_path / "prices.yaml").write_text("my-model: {input: cheap, output: 4}\n")
    with pytest.raises(PriceTableError, match=r"prices.yaml: my-model"):
        load_prices(settings)


# -- failures -------------------------------------------------------------------------------------
def test_classify_plain_exceptions() -> None:
    assert classify(TimeoutError()).kind == "timeout" and classify(TimeoutError()).retryable
    assert classify(ConnectionRefusedError()).kind == "connection"
    assert classify(ValueError("bad json")).kind == "invalid_output"
    assert classify(StreamCutError()).kind == "stream_cut"
    assert not classify(KeyError("x")).retryable
    assert not Failure("refusal").retryable


def test_retry_after_header_forms() -> None:
    class Response:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

    class Err(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            self.response = Response(headers)

    assert retry_after_seconds(Err({"retry-after": "2"})) == 2.0
    assert retry_after_seconds(Err({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    date = "Wed, 21 Oct 2026 07:28:10 GMT"
    at = email.utils.parsedate_to_datetime(date).timestamp()
    assert retry_after_seconds(Err({"retry-after": date}), now=at - 10) == pytest.approx(10.0)
    assert retry_after_seconds(Err({})) is None
    policy = RetryPolicy(retry_after_cap_s=5)
    assert policy.delay(0, Failure("rate_limit", 429, 3.0)) == 3.0
    assert policy.delay(0, Failure("rate_limit", 429, 30.0)) is None


# -- drafts ---------------------------------------------------------------------------------------
def test_draft_drops_the_base_fields_and_adds_cited() -> None:
    fields = set(draft_model(FitResult).model_fields)
    assert fields == {"verdict", "reasons", "alternative", "cited"}
    brief = draft_model(BriefResult)
    story = brief.model_fields["story"].annotation
    assert isinstance(story, type) and "language" not in story.model_fields and "cited" in story.model_fields
    plan = draft_model(PlanResult)
    with pytest.raises(ValidationError):  # constraints survive: at least one phase
        plan.model_validate({"horizon_months": 6, "phases": [], "value_metrics": [], "cited": []})
    hint = schema_hint(plan)
    assert "- horizon_months: integer from 1 to 60" in hint and "    - from_buyer: boolean" in hint


def test_result_from_draft_maps_citations_and_flags_unknown_ids() -> None:
    citation = Citation(doc_id="d", chunk_id="d#1", title="T", type="case", quote="q")
    draft = draft_model(AskResult).model_validate(
        {"question": "q", "answer": "a", "found": True, "cited": ["C1", "[c1]", "C7"]}
    )
    result, problems = result_from_draft(
        AskResult, draft, lang="en", cite=lambda pid: citation if pid == "C1" else None
    )
    assert result is not None and result.citations == [citation] and result.mode == "llm" and result.language == "en"
    assert problems == ["the passage id 'C7' is not one of the passages given"]


# -- the scripted fake through the runner ---------------------------------------------------------
def test_fake_model_drives_the_runner(tmp_path: Path, kb: Any) -> None:
    deal = deal_for("traceability", "en")
    grounding = Grounding(kb, "en", deal.text())
    grounding.search(deal.text(), k=2)
    good = {
        "verdict": "not_fit",
        "reasons": ["One company keeps the only record."],
        "alternative": "A database.",
        "cited": ["C2"],
    }
    model = ScriptedChatModel(script=[TimeoutError("scripted"), good])
    offline = FitResult(language="en", verdict="partial", reasons=["offline"], text="offline")
    sleeps: list[float] = []
    result = run_llm_skill(
        model,
        skill="fit",
        lang="en",
        variables={"deal": deal_yaml(deal), "task_input": "Do we need a chain?"},
        result_cls=FitResult,
        grounding=grounding,
        offline_result=offline,
        render=lambda r: f"{r.verdict}: " + " ".join(r.reasons),
        validate_fn=lambda r: [],
        settings=Settings(home=tmp_path, max_retries=1),
        retry=RetryPolicy(base_delay_s=0.001, sleep=sleeps.append),
    )
    assert (
        result.mode == "llm"
        and result.verdict == "not_fit"
        and result.text == "not_fit: One company keeps the only record."
    )
    assert [c.chunk_id for c in result.citations] == [list(grounding.hits)[1]]
    assert len(model.prompts) == 2 and model.methods == ["json_schema", "json_schema"] and len(sleeps) == 1
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0  # counted with tiktoken
    assert "[C2]" in model.prompts[0][1].text and model.remaining == 0


def test_fake_model_streams_and_cuts() -> None:
    model = ScriptedChatModel(script=["a complete reply", CutReply("half a rep")])
    messages = build_messages(
        "ask", "en", {"language": "English", "deal": "d", "passages": "p", "task_input": "t", "schema_hint": "s"}
    )
    pieces = list(stream_llm_text(model, messages))
    assert len(pieces) > 1 and "".join(pieces) == "a complete reply"
    got: list[str] = []
    with pytest.raises(StreamCutError):
        got.extend(stream_llm_text(model, messages))
    assert model.prompts[1] == messages


def test_fake_structured_output_without_raw() -> None:
    draft_cls = draft_model(FitResult)
    model = ScriptedChatModel(script=[{"verdict": "fit", "reasons": [], "alternative": None, "cited": []}, "not json"])
    parsed = model.with_structured_output(draft_cls).invoke("q")
    assert isinstance(parsed, draft_cls)
    out = model.with_structured_output(draft_cls, method="function_calling", include_raw=True).invoke("q")
    assert out["parsed"] is None and isinstance(out["parsing_error"], ValueError)
    assert model.methods == ["json_schema", "function_calling"]
