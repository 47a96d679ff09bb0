"""Meeting brief composition, exports (md/json/docx, atomic), deal files and the skill commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from samples import SAMPLE_DEALS, deal_for
from typer.testing import CliRunner

from copilot.core import Copilot
from copilot.deal import DealError, load_deal
from copilot.export import export_brief
from copilot.grounding import Grounding
from copilot.skills.brief import brief_offline
from copilot.validators import check_citations, check_language, check_numbers
from nego.cli import app


@pytest.fixture(scope="module")
def copilot(kb: Any, shipped_index: Any) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings, kb)


@pytest.mark.parametrize("deal", SAMPLE_DEALS[::3], ids=lambda d: f"{d.scenario}-{d.lang}")
def test_brief_is_complete_grounded_and_in_language(kb: Any, deal: Any) -> None:
    g = Grounding(kb, deal.lang, deal.text())
    brief = brief_offline(kb, g, deal, deal.lang)
    assert brief.opening and brief.talking_points and brief.demo_script and brief.discovery_questions
    assert brief.objections and brief.risks.items and brief.plan.phases and brief.next_steps
    assert all(p.proof for p in brief.talking_points)
    assert check_citations(brief.citations, set(g.hits)) == []
    assert check_numbers(brief.text, [deal.text(), "12", g.cited_text()]) == []
    assert check_language(brief.text, deal.lang) == []
    headings = [line for line in brief.text.splitlines() if line.startswith("## ")]
    assert len(headings) >= 10


def test_brief_is_deterministic(kb: Any) -> None:
    deal = deal_for("e_invoice", "zh")
    first = brief_offline(kb, Grounding(kb, "zh", deal.text()), deal, "zh")
    second = brief_offline(kb, Grounding(kb, "zh", deal.text()), deal, "zh")
    assert first.model_dump() == second.model_dump()


def test_exports(copilot: Copilot, tmp_path: Path) -> None:
    from docx import Document as Docx

    brief = copilot.brief(deal_for("traceability", "zh"))
    md = export_brief(brief, "md", tmp_path / "brief.md")
    js = export_brief(brief, "json", tmp_path / "brief.json")
    docx = export_brief(brief, "docx", tmp_path / "brief.docx")
    assert md.read_text(encoding="utf-8") == brief.text
    assert json.loads(js.read_text(encoding="utf-8"))["customer"] == brief.customer
    document = Docx(str(docx))
    texts = [p.text for p in document.paragraphs]
    assert any("会议简报" in t for t in texts)
    assert len(document.tables) == 3  # the rep-notes box on the card, the risk checklist, the milestone plan
    assert document.tables[0].rows[0].cells[0].text.startswith("⚠ 仅供销售参考")
    assert document.tables[1].rows[1].cells[0].text == brief.risks.items[0].risk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.docx", "brief.json", "brief.md"]  # no temp files


def test_deal_file_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "deal.yaml"
    path.write_text("customer: ACME\nscenario: farming\ncolour: blue\n", encoding="utf-8")
    with pytest.raises(DealError) as info:
        load_deal(path)
    message = str(info.value)
    assert f"{path}: scenario:" in message and f"{path}: colour: unknown field" in message
    path.write_text("customer: [unclosed\n", encoding="utf-8")
    with pytest.raises(DealError, match=rf"{path}:\d+: invalid YAML"):
        load_deal(path)


def test_language_is_detected_from_the_deal_text() -> None:
    from copilot.deal import deal_from_data

    assert deal_from_data({"scenario": "traceability", "pains": ["追溯太慢"]}).lang == "zh"
    assert deal_from_data({"scenario": "traceability", "pains": ["Tracing is too slow"]}).lang == "en"


def _env(shipped_index: Any) -> dict[str, str]:
    settings, _, _ = shipped_index
    return {"NEGO_HOME": str(settings.home)}


def test_cli_brief_docx_and_json(shipped_index: Any, tmp_path: Path) -> None:
    deal = tmp_path / "deal.yaml"
    deal.write_text(
        "customer: FreshCo\nscenario: traceability\nregion: us\nlanguage: en\npains: [Tracing takes 3 days]\n"
        "goals: [Trace any batch within 2 hours]\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    out = tmp_path / "brief.docx"
    result = runner.invoke(
        app, ["brief", "--deal", str(deal), "--format", "docx", "-o", str(out)], env=_env(shipped_index)
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000
    as_json = runner.invoke(app, ["risks", "--deal", str(deal), "--json"], env=_env(shipped_index))
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["skill"] == "risks" and data["language"] == "en" and data["mode"] == "offline" and data["citations"]


def test_cli_bad_deal_is_a_clear_error(shipped_index: Any, tmp_path: Path) -> None:
    deal = tmp_path / "deal.json"
    deal.write_text('{"scenario": "traceability", "stage": "dreaming"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["fit", "--deal", str(deal)], env=_env(shipped_index))
    assert result.exit_code == 2
    assert "stage:" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["risks"], env=_env(shipped_index))
    assert missing.exit_code == 2 and "--deal FILE" in missing.output


def test_cli_ask_out_of_knowledge(shipped_index: Any) -> None:
    result = CliRunner().invoke(app, ["ask", "谁赢得了世界杯？", "--json"], env=_env(shipped_index))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["found"] is False and data["citations"] == []
