"""Buyer role-play: personas, offline moves and scorecard, good vs bad separation, LLM voice (fake + HTTP), CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openai_server import Reply, Status
from typer.testing import CliRunner

from copilot.core import Copilot
from copilot.deal import load_deal
from copilot.llm.fake import ScriptedChatModel
from copilot.practice.persona import PersonaError, load_persona, persona_keys
from copilot.practice.session import RoleplaySession, SessionOverError
from nego.cli import app

DATA = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "roleplay"


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def copilot(kb: Any, shipped_index: Any) -> Copilot:
    return Copilot(shipped_index[0], kb)


def test_every_persona_loads_in_both_languages() -> None:
    keys = persona_keys()
    assert {"cfo", "skeptical_cio", "procurement", "legal_compliance", "consortium_partner"} <= set(keys)
    for key in keys:
        persona = load_persona(key)
        assert persona.objections and persona.follow_ups.jargon and persona.text("zh") and persona.text("en")


def test_unknown_persona_names_the_known_ones() -> None:
    with pytest.raises(PersonaError, match="cfo"):
        load_persona("ceo")
    with pytest.raises(PersonaError):
        load_persona("../cfo")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("persona", ["cfo", "legal_compliance"])
def test_good_script_scores_clearly_above_bad(copilot: Copilot, persona: str, lang: str) -> None:
    deal = load_deal(DATA / f"deal-{lang}.yaml")
    good = copilot.roleplay(deal, persona, _lines(f"{persona}.{lang}.good.txt"))
    bad = copilot.roleplay(deal, persona, _lines(f"{persona}.{lang}.bad.txt"))
    assert good.scorecard.overall - bad.scorecard.overall >= 3.0
    assert good.language == lang and good.mode == "offline" and good.finished
    assert bad.scorecard.score("honesty") <= 2  # invented figures
    assert bad.scorecard.score("next_step") == 0 and good.scorecard.score("next_step") == 10
    rep_text = "\n".join(t.text for t in good.turns if t.role == "rep")
    for item in good.scorecard.items:
        assert all(quote in rep_text for quote in item.evidence)  # evidence is quoted from the rep


@pytest.mark.parametrize(
    ("lang", "line", "move"),
    [
        ("zh", "我们基于PBFT共识和零知识证明。", "jargon"),
        ("en", "We run PBFT consensus with zero-knowledge proofs.", "jargon"),
        ("zh", "我们的方案非常成熟，效果都很好，一定能降本增效。", "no_proof"),
        ("en", "Our solution is very mature and will definitely cut your costs.", "no_proof"),
    ],
)
def test_follow_ups_react_to_the_answer(kb: Any, lang: str, line: str, move: str) -> None:
    session = RoleplaySession(kb, load_deal(DATA / f"deal-{lang}.yaml"), load_persona("cfo"))
    opening = session.open()
    assert opening.moves == ["opening"]
    assert session.reply(line).moves == [move]


def test_closed_session_refuses_more_turns(copilot: Copilot) -> None:
    deal = load_deal(DATA / "deal-en.yaml")
    session = copilot.roleplay_session(deal, "cfo")
    result = session.run_script(_lines("cfo.en.good.txt"))
    assert result.finished and result.turns[-1].moves[-1] == "closing"
    with pytest.raises(SessionOverError):
        session.reply("one more thing")


def test_llm_voices_the_move_and_a_figure_falls_back(kb: Any, shipped_index: Any) -> None:
    model = ScriptedChatModel(script=["Right. Tell me the cost first.", "Fine, but it saves 45% for sure?"])
    copilot = Copilot(shipped_index[0], kb, model=model)
    session = copilot.roleplay_session(load_deal(DATA / "deal-en.yaml"), "cfo")
    assert session.open().voiced_by == "llm"
    turn = session.reply("We run PBFT consensus.")
    assert turn.voiced_by == "offline" and turn.moves == ["jargon"]  # the model's line held an unknown figure
    result = session.result()
    assert result.mode == "llm" and any(n.kind == "fallback" for n in result.notices)
    system = model.prompts[0][0].content
    assert "Chief Financial Officer" in system and "never give any figure" in system


def test_llm_mode_against_the_http_server(kb: Any, shipped_index: Any, openai_server: Any) -> None:
    settings = shipped_index[0].model_copy(
        update={"provider": "custom", "model": "test-model", "base_url": openai_server.base_url, "max_retries": 0}
    )
    copilot = Copilot.open(settings, kb)
    openai_server.script(Reply("我时间不多。您先说说，它到底帮我们省了什么？"), Status(500))
    session = copilot.roleplay_session(load_deal(DATA / "deal-zh.yaml"), "cfo")
    assert session.open().text.startswith("我时间不多")
    turn = session.reply("我们基于PBFT共识。")
    assert turn.voiced_by == "offline" and turn.moves == ["jargon"]
    assert openai_server.chat_requests()


def test_cli_script_and_interactive(shipped_index: Any, tmp_path: Path) -> None:
    env = {"NEGO_HOME": str(shipped_index[0].home)}
    runner = CliRunner()
    args = ["roleplay", "--deal", str(DATA / "deal-zh.yaml"), "--persona", "cfo"]
    scripted = runner.invoke(app, [*args, "--script", str(DATA / "cfo.zh.good.txt"), "--json"], env=env)
    assert scripted.exit_code == 0, scripted.output
    assert '"skill": "roleplay"' in scripted.output
    live = runner.invoke(app, args, input="现在一次追溯要多久？\n/exit\n", env=env)
    assert live.exit_code == 0 and "评分卡" in live.output and "买方（首席财务官）" in live.output
    bad = runner.invoke(app, [*args[:-1], "ceo", "--script", str(tmp_path / "none.txt")], env=env)
    assert bad.exit_code == 2 and "not found" in bad.output
