"""Eval runs end to end: offline suites, determinism, resume after an interrupt, the response cache against
the OpenAI-compatible test server, and the CLI's compare and gate exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from openai_server import OpenAIServer, Reply
from pydantic import SecretStr
from typer.testing import CliRunner

from copilot.index.retriever import Retriever
from copilot.knowledge import KnowledgeBase
from copilot.settings import Settings
from evals.models import CaseResult
from evals.retrieval import default_dataset, evaluate, load_gold
from evals.runner import (
    REPORT,
    RESULTS,
    SUMMARY,
    SUMMARY_MD,
    Models,
    RunConfig,
    RunDirError,
    load_run,
    open_models,
    read_results,
    run_suite,
    write_outputs,
)
from evals.summary import default_thresholds, summarise
from nego.cli import app

VERDICT = {
    "grounded": 4,
    "relevant": 4,
    "clear": 5,
    "honest": 4,
    "actionable": 3,
    "overall": 4,
    "rationale": "Sound and grounded.",
}


@pytest.fixture()
def home_settings(shipped_index: Any, tmp_path: Path) -> Settings:
    """Settings whose NEGO_HOME is a fresh temp dir (the session index is passed in as `kb`)."""
    settings: Settings = shipped_index[0]
    return settings.model_copy(update={"home": tmp_path / "home"})


def run(settings: Settings, kb: KnowledgeBase, out: Path, suite: str = "skills", **kw: Any) -> Any:
    models = kw.pop("models", None)
    on_case = kw.pop("on_case", None)
    config = RunConfig(suite=suite, out_dir=out, **kw)  # type: ignore[arg-type]
    return run_suite(settings, kb, config, models, progress=False, on_case=on_case)


def comparable(results: list[CaseResult]) -> list[dict[str, Any]]:
    """Results without what legitimately varies between runs (timings)."""
    out = []
    for r in results:
        data = r.model_dump()
        for o in data["outputs"]:
            o["latency_ms"] = 0.0
        out.append(data)
    return out


# -- offline runs ---------------------------------------------------------------------------------
def test_offline_skills_run_writes_every_output_and_is_deterministic(
    home_settings: Settings, kb: KnowledgeBase, tmp_path: Path
) -> None:
    summary = run(home_settings, kb, tmp_path / "a", limit=3)
    for name in (RESULTS, SUMMARY, SUMMARY_MD, REPORT, "run.json"):
        assert (tmp_path / "a" / name).is_file(), name
    results = read_results(tmp_path / "a" / RESULTS)
    assert [r.index for r in results] == [0, 1, 2] and summary.cases == 3
    assert summary.modes == {"offline": sum(len(r.outputs) for r in results)}
    assert {"citation_validity", "numeric_faithfulness", "language_match", "length", "fit_verdict"} <= set(
        summary.metrics
    )
    assert summary.metrics["citation_validity"].mean == 1.0
    assert summary.completion_tokens > 0 and summary.prompt_tokens == 0 and summary.cost_usd == 0.0
    assert summary.latency_ms.p50 is not None and summary.latency_ms.p95 is not None
    assert summary.model_calls == 0
    again = run(home_settings, kb, tmp_path / "b", limit=3)
    assert comparable(read_results(tmp_path / "b" / RESULTS)) == comparable(results)
    assert again.metrics == summary.metrics
    md = (tmp_path / "a" / SUMMARY_MD).read_text(encoding="utf-8")
    assert "| citation_validity |" in md


def test_offline_adversarial_run(home_settings: Settings, kb: KnowledgeBase, tmp_path: Path) -> None:
    summary = run(home_settings, kb, tmp_path / "adv", suite="adversarial", limit=2)
    results = read_results(tmp_path / "adv" / RESULTS)
    assert [r.tags["kind"] for r in results] == ["injection_user", "injection_user"]
    assert summary.metrics["adversarial_behaviour"].n == 2
    assert all(r.status == "pass" for r in results), [r.failed_metrics() for r in results]


def test_retrieval_run_agrees_with_the_retrieval_benchmark(
    home_settings: Settings, kb: KnowledgeBase, shipped_index: Any, tmp_path: Path
) -> None:
    summary = run(home_settings, kb, tmp_path / "ret", suite="retrieval", limit=12)
    gold = load_gold(default_dataset())[:12]
    reference = evaluate(Retriever(shipped_index[1]), gold)["metrics"]["hybrid"]["all"]
    assert summary.metrics["recall@5"].mean == pytest.approx(reference["recall@5"], abs=1e-4)
    assert summary.metrics["mrr@10"].mean == pytest.approx(reference["mrr@10"], abs=1e-4)
    assert summary.slices["all"]["n"] == 12


# -- resume ---------------------------------------------------------------------------------------
def test_resume_after_an_interrupt_skips_done_cases(home_settings: Settings, kb: KnowledgeBase, tmp_path: Path) -> None:
    out = tmp_path / "run"
    seen: list[str] = []

    def interrupt_after_two(result: CaseResult) -> None:
        seen.append(result.case_id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(home_settings, kb, out, suite="adversarial", limit=5, on_case=interrupt_after_two)
    assert len(read_results(out / RESULTS)) == 2
    assert not (out / SUMMARY).exists()
    with pytest.raises(RunDirError, match="did not finish"):
        load_run(out)
    # a crash in the middle of writing leaves half a line: it is dropped and that case is redone
    with (out / RESULTS).open("a", encoding="utf-8") as handle:
        handle.write('{"case_id": "half-written", "suite": "adv')
    executed: list[str] = []
    summary = run(home_settings, kb, out, suite="adversarial", limit=5, on_case=lambda r: executed.append(r.case_id))
    results = read_results(out / RESULTS)
    assert executed == [r.case_id for r in results[2:]] and len(executed) == 3
    assert [r.index for r in results] == [0, 1, 2, 3, 4] and summary.cases == 5
    assert seen[:2] == [r.case_id for r in results[:2]]
    # a finished run resumed again runs nothing
    executed.clear()
    run(home_settings, kb, out, suite="adversarial", limit=5, on_case=lambda r: executed.append(r.case_id))
    assert executed == []


def test_a_run_directory_holding_another_run_is_refused(
    home_settings: Settings, kb: KnowledgeBase, tmp_path: Path
) -> None:
    run(home_settings, kb, tmp_path / "r", suite="retrieval", limit=2)
    with pytest.raises(RunDirError, match="seed"):
        run(home_settings, kb, tmp_path / "r", suite="retrieval", limit=2, seed=1)
    with pytest.raises(RunDirError, match="suite"):
        run(home_settings, kb, tmp_path / "r", suite="adversarial", limit=2)


# -- against the OpenAI-compatible test server, with the cache ------------------------------------
def server_settings(base: Settings, server: OpenAIServer) -> Settings:
    return base.model_copy(
        update={"base_url": server.base_url, "model": "gpt-4o-mini", "api_key": SecretStr("sk-test"), "timeout_s": 5.0}
    )


def test_judged_run_against_the_test_server_is_cached(
    openai_server: OpenAIServer, home_settings: Settings, kb: KnowledgeBase, tmp_path: Path
) -> None:
    settings = server_settings(home_settings, openai_server)
    openai_server.script(*[Reply(json.dumps(VERDICT))] * 3)
    models = open_models(settings, "offline", "custom")
    first = run(settings, kb, tmp_path / "one", suite="adversarial", limit=3, models=models, judge_provider="custom")
    requests = openai_server.chat_requests()
    assert len(requests) == 3 and first.model_calls == 3 and first.cache_hits == 0
    assert first.judge.judged == 3 and first.judge.overall == 0.75 and first.judge.failures == 0
    assert first.prompt_tokens > 0 and first.cost_usd > 0  # gpt-4o-mini is in the price table
    # the Chinese case was judged with the Chinese rubric
    prompts = [r.body["messages"][0]["content"] for r in requests]
    assert any(p.startswith("你是一名严格的评审") for p in prompts) and any(p.startswith("You are") for p in prompts)
    assert all(r.body.get("temperature") == 0 for r in requests)

    again = run(settings, kb, tmp_path / "two", suite="adversarial", limit=3, models=models, judge_provider="custom")
    assert len(openai_server.chat_requests()) == 3, "the second run must make no model call"
    assert again.model_calls == 0 and again.cache_hits == 3
    assert [j.model_dump() for r in read_results(tmp_path / "two" / RESULTS) for j in r.judge] == [
        j.model_dump() for r in read_results(tmp_path / "one" / RESULTS) for j in r.judge
    ]
    # a fresh process (new cache object) reads the same cache directory
    fresh = open_models(settings, "offline", "custom")
    third = run(settings, kb, tmp_path / "three", suite="adversarial", limit=3, models=fresh, judge_provider="custom")
    assert third.model_calls == 0 and len(openai_server.chat_requests()) == 3


def test_judge_failures_against_the_server_are_reported(
    openai_server: OpenAIServer, home_settings: Settings, kb: KnowledgeBase, tmp_path: Path
) -> None:
    settings = server_settings(home_settings, openai_server).model_copy(update={"max_retries": 0})
    openai_server.script(Reply("not json at all"), Reply(json.dumps(VERDICT)))
    models = open_models(settings, "offline", "custom")
    summary = run(
        settings,
        kb,
        tmp_path / "r",
        suite="adversarial",
        limit=2,
        models=models,
        judge_provider="custom",
        concurrency=1,
    )
    assert summary.judge.judged == 1 and summary.judge.failures == 1 and summary.judge.overall == 0.75
    assert summary.judge.failure_messages == ["invalid_output: the reply holds no JSON object"]


def test_the_copilot_model_is_cached_by_prompt_model_and_parameters(
    openai_server: OpenAIServer, home_settings: Settings
) -> None:
    settings = server_settings(home_settings, openai_server)
    openai_server.script(Reply("first"), Reply("second"), Reply("third"))
    models = open_models(settings, "custom", None)
    assert models.copilot is not None and models.judge is None and models.copilot_name == "gpt-4o-mini"
    assert models.copilot.invoke("hello").text == "first"
    assert models.copilot.invoke("hello").text == "first"  # cached
    assert models.copilot.invoke("hello", temperature=0.5).text == "second"  # other parameters
    assert models.copilot.invoke("hello again").text == "third"  # other prompt
    assert len(openai_server.chat_requests()) == 3
    assert models.cache.hits == 1 and models.cache.entries() == 3


# -- CLI: run, compare, gate ----------------------------------------------------------------------
def invoke(args: list[str], home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NEGO_HOME", str(home))
    return CliRunner().invoke(app, args)


def test_cli_run_compare_and_gate(
    shipped_index: Any, openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path(shipped_index[0].home)  # the session index lives here
    a = tmp_path / "a"
    result = invoke(
        ["eval", "run", "--suite", "skills", "--limit", "2", "--out", str(a), "--no-progress"], home, monkeypatch
    )
    assert result.exit_code == 0, result.output
    assert "| citation_validity |" in result.output and str(a / "report.html") in result.output

    # B: the same run, with one case made worse
    b = tmp_path / "b"
    shutil.copytree(a, b)
    _, results = load_run(b)
    broken = results[1].model_copy(deep=True)
    broken.metrics[0] = broken.metrics[0].model_copy(update={"score": 0.0, "passed": False, "problems": ["bad"]})
    broken.status = "fail"
    broken.outputs[0] = broken.outputs[0].model_copy(update={"text": "A worse answer."})
    results[1] = broken
    (b / RESULTS).write_text("".join(r.model_dump_json() + "\n" for r in results), encoding="utf-8")
    manifest = json.loads((b / "run.json").read_text(encoding="utf-8"))
    write_outputs(b, summarise(results, manifest, "b"), results)

    same = invoke(["eval", "compare", str(a), str(a)], home, monkeypatch)
    assert same.exit_code == 0, same.output
    assert "regressed cases: 0" in same.output
    worse = invoke(["eval", "compare", str(a), str(b)], home, monkeypatch)
    assert worse.exit_code == 1, worse.output
    assert "regressed cases: 1" in worse.output and results[1].case_id in worse.output
    assert "case_pass_rate" in worse.output and "▼" in worse.output
    as_json = invoke(["eval", "compare", str(a), str(b), "--json"], home, monkeypatch)
    assert json.loads(as_json.output)["regressed"][0]["case_id"] == results[1].case_id

    # pairwise judge of the one changed output, through the test server
    for name, value in (("BASE_URL", openai_server.base_url), ("MODEL", "gpt-4o-mini"), ("API_KEY", "sk-test")):
        monkeypatch.setenv(f"NEGO_{name}", value)
    openai_server.script(Reply(json.dumps({"winner": "1", "rationale": "more grounded"})))
    judged = invoke(["eval", "compare", str(a), str(b), "--judge", "custom", "--seed", "5"], home, monkeypatch)
    assert judged.exit_code == 1, judged.output
    (request,) = openai_server.chat_requests()
    prompt = request.body["messages"][0]["content"]
    swapped = prompt.index("A worse answer.") < prompt.index('<data name="answer_2">')
    winner = "B better 1" if swapped else "A better 1"
    assert "pairwise judge on 1 changed outputs" in judged.output and winner in judged.output, judged.output
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("NEGO_API_KEY")
    no_key = invoke(
        ["eval", "run", "--suite", "skills", "--provider", "openai", "--out", str(tmp_path / "x")], home, monkeypatch
    )
    assert no_key.exit_code == 2 and "needs an API key" in no_key.output

    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text("skills:\n  min:\n    case_pass_rate: 1.0\n    citation_validity: 1.0\n", "utf-8")
    ok = invoke(["eval", "gate", str(a), "--thresholds", str(thresholds)], home, monkeypatch)
    assert ok.exit_code == 0, ok.output
    assert "gate passed" in ok.output
    below = invoke(["eval", "gate", str(b), "--thresholds", str(thresholds)], home, monkeypatch)
    assert below.exit_code == 1 and "FAIL skills.case_pass_rate = 0.5" in below.output
    thresholds.write_text("skills:\n  min:\n    no_such_metric: 0.5\n", "utf-8")
    missing = invoke(["eval", "gate", str(a), "--thresholds", str(thresholds)], home, monkeypatch)
    assert missing.exit_code == 1 and "no_such_metric = missing" in missing.output
    thresholds.write_text("skills:\n  min: {case_pass_rate: high}\n", "utf-8")
    invalid = invoke(["eval", "gate", str(a), "--thresholds", str(thresholds)], home, monkeypatch)
    assert invalid.exit_code == 2 and "skills.min.case_pass_rate" in invalid.output
    nowhere = invoke(["eval", "gate", str(tmp_path / "nope")], home, monkeypatch)
    assert nowhere.exit_code == 2
    bad_suite = invoke(["eval", "run", "--suite", "vibes"], home, monkeypatch)
    assert bad_suite.exit_code == 2 and "unknown value 'vibes'" in bad_suite.output


def test_shipped_thresholds_cover_every_suite() -> None:
    from evals.models import SUITES
    from evals.summary import load_thresholds

    table = load_thresholds(default_thresholds())
    assert set(table) == set(SUITES)
    for suite, entry in table.items():
        assert "case_pass_rate" in entry.min or suite in ("retrieval", "understanding")  # per-set accuracies
        assert entry.min, suite


def test_models_are_not_opened_offline(home_settings: Settings) -> None:
    models = open_models(home_settings, "offline", None)
    assert models == Models()
