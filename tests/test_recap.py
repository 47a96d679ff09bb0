"""Recap and deal memory: notes formats, hedges, the updated deal, versions, email, CLI, LLM mode (fake + HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from openai_server import Reply
from typer.testing import CliRunner

from copilot.core import Copilot
from copilot.deal import deal_from_data
from copilot.llm.fake import ScriptedChatModel
from copilot.recap.extract import hedged
from copilot.recap.notes import read_notes
from copilot.recap.versions import DealVersions, VersionError
from copilot.understand.examples import examples_path, load_examples
from evals.recap_match import hedged_overwrites, score_recap
from nego.cli import app

DATASET = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "recap_notes.yaml"
CASES = {c["id"]: c for c in yaml.safe_load(DATASET.read_text(encoding="utf-8"))["cases"]}
CONCERNS = {e.label for e in load_examples(examples_path("objections"))}


def _deal(case: dict[str, Any]) -> Any:
    return deal_from_data({**case["deal"], "language": case["lang"]})


@pytest.fixture(scope="module")
def copilot(kb: Any, shipped_index: Any) -> Copilot:
    return Copilot(shipped_index[0], kb)


def test_transcript_formats_keep_speakers_and_sections() -> None:
    feishu = "发言人1 00:00:15\n我先说下背景。\n发言人2 00:01:02 明白，我们下周五前出方案。"
    zoom = "Speaker 3 00:06:20 I'll send our policy by Friday."
    teams = "0:00:04 Wei Ling Koh\nMorning everyone."
    md = "### 待办\n- [ ] Kevin：提供接口清单，下周一前"
    assert [c.speaker for c in read_notes(feishu)] == ["发言人1", "发言人2"]
    assert read_notes(zoom)[0].speaker == "Speaker 3"
    assert read_notes(teams)[0].speaker == "Wei Ling Koh"
    clause = read_notes(md)[0]
    assert clause.section == "待办" and clause.label == "Kevin" and clause.text.startswith("提供接口清单")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("预算大概三十万港币左右", True),
        ("上线时间估计要推到明年下半年", True),
        ("maybe stretch to around £400k", True),
        ("CFO确认预算提高到260万", False),
        ("Marcus confirmed budget is $220k", False),
    ],
)
def test_hedge_words_come_from_the_data_file(text: str, expected: bool) -> None:
    assert hedged(text) is expected


@pytest.mark.parametrize("case_id", ["recap-zh-01", "recap-zh-02", "recap-en-01", "recap-en-02"])
def test_recap_of_labelled_notes(copilot: Copilot, case_id: str) -> None:
    case = CASES[case_id]
    deal = _deal(case)
    result = copilot.recap(deal, case["notes"])
    assert result.language == case["lang"] and result.mode == "offline"
    assert not hedged_overwrites(case["expected"], result.updated_deal)
    for value in case["expected"].get("hedged", []):
        assert any(value["value"] in q.text for q in result.open_questions)
    tallies = score_recap(case["expected"], result)
    assert tallies["decisions"].tp >= 1 and tallies["next_meeting"].tp == 1
    assert all(o.concern in CONCERNS for o in result.objections)
    assert all(0 < i.confidence <= 1 for i in [*result.decisions, *result.commitments, *result.hedged])
    deal_from_data(result.updated_deal)  # the proposal is a valid deal
    email = result.email
    assert result.decisions[0].text.rstrip("。.") in email
    assert all(o.text not in email for o in result.objections)  # customer-facing: no internal notes
    assert ("跟进" in email) == (case["lang"] == "zh")


def test_a_firm_budget_replaces_the_old_one(copilot: Copilot) -> None:
    case = CASES["recap-zh-02"]
    result = copilot.recap(_deal(case), case["notes"])
    replaced = [c for c in result.changes if c.change == "replaced"]
    assert replaced and replaced[0].before == "预算200万元" and "260万" in replaced[0].after
    assert "预算200万元" not in result.updated_deal["constraints"]


def test_versions_are_kept_and_restored(tmp_path: Path) -> None:
    versions = DealVersions(tmp_path)
    first = versions.save("东升重工", {"scenario": "supply_chain_finance"}, "original")
    second = versions.save("东升重工", {"scenario": "supply_chain_finance", "stage": "closing"}, "recap", "会议笔记")
    assert [v.version for v in versions.list("东升重工")] == [1, 2] and second.note == "会议笔记"
    restored = versions.restore("东升重工", first.version)
    assert restored.version == 3 and restored.deal == first.deal and restored.source == "restore v1"
    assert versions.get("东升重工").version == 3
    with pytest.raises(VersionError, match="no version 7"):
        versions.get("东升重工", 7)
    with pytest.raises(VersionError, match="no saved versions"):
        versions.get("nobody")


def test_cli_recap_write_and_deal_versions(shipped_index: Any, tmp_path: Path) -> None:
    case = CASES["recap-zh-04"]
    deal_file = tmp_path / "deal.yaml"
    deal_file.write_text(yaml.safe_dump({**case["deal"], "language": "zh"}, allow_unicode=True), encoding="utf-8")
    notes = tmp_path / "notes.md"
    notes.write_text(case["notes"], encoding="utf-8")
    env = {"NEGO_HOME": str(shipped_index[0].home)}  # where the index is; versions go under it too
    runner = CliRunner()
    out = runner.invoke(app, ["recap", "--deal", str(deal_file), "--notes", str(notes), "--write"], env=env)
    assert out.exit_code == 0, out.output
    assert "建议的交易更新" in out.output and "已保存为第 2 版" in out.output
    listed = runner.invoke(app, ["deal", "versions", "--deal", str(deal_file), "--json"], env=env)
    assert [v["version"] for v in json.loads(listed.output)][-2:] == [1, 2]
    shown = runner.invoke(app, ["deal", "show", "2", "--deal", str(deal_file), "--note"], env=env)
    assert "预算上调到180万" in shown.output and "红冲" in shown.output
    restored = runner.invoke(
        app, ["deal", "restore", "1", "--deal", str(deal_file), "-o", str(tmp_path / "r.yaml")], env=env
    )
    assert restored.exit_code == 0 and "预算150万元" in (tmp_path / "r.yaml").read_text(encoding="utf-8")
    missing = runner.invoke(app, ["recap", "--deal", str(deal_file), "--notes", str(tmp_path / "none.txt")], env=env)
    assert missing.exit_code == 2 and "file not found" in missing.output


def test_llm_polishes_the_email_and_an_invented_figure_falls_back(kb: Any, shipped_index: Any) -> None:
    case = CASES["recap-en-02"]
    polished = (
        "Dear Green Valley Produce Co-op team,\nThank you for today. We agreed to start with the 12 largest growers."
    )
    model = ScriptedChatModel(script=[polished, "We guarantee a 35% saving."])
    copilot = Copilot(shipped_index[0], kb, model=model)
    first = copilot.recap(_deal(case), case["notes"])
    assert first.mode == "llm" and first.email == polished
    second = copilot.recap(_deal(case), case["notes"])
    assert second.mode == "offline" and "35%" not in second.email
    assert any(n.kind == "fallback" for n in second.notices)


def test_llm_email_over_the_http_server(kb: Any, shipped_index: Any, openai_server: Any) -> None:
    settings = shipped_index[0].model_copy(
        update={"provider": "custom", "model": "test-model", "base_url": openai_server.base_url, "max_retries": 0}
    )
    copilot = Copilot.open(settings, kb)
    case = CASES["recap-zh-01"]
    openai_server.script(Reply("北方乳业集团 各位领导：感谢拨冗。双方同意先选两个牧场加一个工厂做试点。"))
    result = copilot.recap(_deal(case), case["notes"])
    assert result.mode == "llm" and result.email.startswith("北方乳业集团")
    assert openai_server.chat_requests()
