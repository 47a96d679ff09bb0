"""The one-page prep card, stories in four beats, rep notes kept apart, and the card in CLI and .docx (zh/en)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from samples import deal_for
from typer.testing import CliRunner

from copilot.core import Copilot
from copilot.deal import Deal, deal_from_data
from copilot.export import export_brief
from copilot.results import BriefResult
from copilot.skills.card import customer_text
from copilot.vendor import VendorProfile, load_vendor
from evals import card_metrics
from nego.cli import app

ROOT = Path(__file__).resolve().parents[1]
LANGS = ["zh", "en"]


@pytest.fixture(scope="module")
def copilot(kb: Any, shipped_index: Any) -> Copilot:
    settings, _, _ = shipped_index
    return Copilot(settings, kb, vendor=load_vendor(ROOT / "examples" / "vendor.yaml"))


@pytest.fixture(scope="module")
def briefs(copilot: Copilot) -> dict[str, BriefResult]:
    return {lang: copilot.brief(deal_for("traceability", lang)) for lang in LANGS}


def _staged(lang: str, stage: str, **extra: Any) -> Deal:
    data = deal_for("traceability", lang).model_dump(exclude_none=True)
    data.update(stage=stage, **extra)
    return deal_from_data(data)


@pytest.mark.parametrize("lang", LANGS)
def test_the_card_fits_one_page_and_every_highlight_has_proof(briefs: dict[str, BriefResult], lang: str) -> None:
    brief = briefs[lang]
    card = brief.card
    assert card is not None
    assert card.goal and card.next_step and card.fit_line
    assert 1 <= len(card.highlights) <= 3 and all(h.proof.strip() for h in card.highlights)
    assert len(card.top_risks) == 3 and all(r.mitigation for r in card.top_risks)
    assert len(card.questions) == 3
    metrics = {m.name: m for m in card_metrics.brief_metrics(brief, deal_for("traceability", lang))}
    for name in ("card_length", "card_highlights", "rep_note_leakage", "fragment_rate", "duplicate_sentences"):
        assert metrics[name].passed, (name, metrics[name].problems)
    assert metrics["tailoring"].score >= 0.6


@pytest.mark.parametrize("lang", LANGS)
def test_the_brief_starts_with_the_card_and_json_has_it(briefs: dict[str, BriefResult], lang: str) -> None:
    brief = briefs[lang]
    lines = [line for line in brief.text.splitlines() if line.startswith("#")]
    assert lines[1].startswith("## 一页纸准备卡" if lang == "zh" else "## Prep card")
    assert any(line == ("# 附录" if lang == "zh" else "# Appendices") for line in lines)
    data = json.loads(brief.model_dump_json())
    assert set(data["card"]) >= {"goal", "highlights", "top_risks", "questions", "next_step"}
    assert all({"point", "proof"} <= set(h) for h in data["card"]["highlights"])


@pytest.mark.parametrize("lang", LANGS)
def test_vendor_reference_is_marked_as_the_vendors_own(briefs: dict[str, BriefResult], lang: str) -> None:
    card = briefs[lang].card
    assert card is not None
    own = [h for h in card.highlights if h.proof_kind == "vendor"]
    assert own and own[0].proof.startswith("[供应商自有案例]" if lang == "zh" else "[vendor's own reference]")
    cited = [h for h in card.highlights if h.proof_kind == "cited"]
    assert cited and all(h.sources for h in cited)


@pytest.mark.parametrize("lang", LANGS)
def test_stage_changes_the_card(copilot: Copilot, lang: str) -> None:
    discovery = copilot.brief(_staged(lang, "discovery")).card
    proposal = copilot.brief(_staged(lang, "proposal")).card
    closing = copilot.brief(_staged(lang, "closing")).card
    assert discovery is not None and proposal is not None and closing is not None
    assert len(discovery.highlights) <= 2  # discovery claims less
    assert len(proposal.highlights) == 3  # proposal leads with value and plan
    assert discovery.goal != proposal.goal != closing.goal
    assert discovery.next_step != closing.next_step
    assert closing.questions[0] != discovery.questions[0]  # closing asks about the signature first


@pytest.mark.parametrize("lang", LANGS)
def test_negotiation_card_trades_and_keeps_the_walk_away_for_the_rep(copilot: Copilot, lang: str) -> None:
    negotiation = {
        "issues": [{"name": "price", "unit": "kEUR", "target": 900, "walk_away": 700, "better": "up"}],
        "tradeables": [
            {"give": "a longer pilot", "get": "a three-year term", "cost_to_us": "low", "value_to_them": "high"}
        ],
    }
    brief = copilot.brief(_staged(lang, "negotiation", negotiation=negotiation))
    card = brief.card
    assert card is not None
    assert any("a three-year term" in h.point for h in card.highlights)
    assert any("700" in n for n in card.rep_notes)  # the walk-away is a rep note…
    assert "700" not in customer_text(card)  # …and never customer-facing
    assert card_metrics.rep_note_leakage(card_metrics.brief_customer_texts(brief), brief.rep_notes, lang).passed


@pytest.mark.parametrize("lang", LANGS)
def test_budget_shapes_the_next_step(copilot: Copilot, lang: str) -> None:
    budget = "预算300万元以内" if lang == "zh" else "budget EUR 2m"
    card = copilot.brief(_staged(lang, "proposal", constraints={"budget": budget})).card
    assert card is not None
    amount = "300万元" if lang == "zh" else "EUR 2m"  # as the deal reading parsed it
    assert amount in card.next_step
    assert any(amount in h.point for h in card.highlights)  # the plan highlight is scoped to it


@pytest.mark.parametrize("lang", LANGS)
def test_story_has_four_beats_of_complete_sentences(briefs: dict[str, BriefResult], lang: str) -> None:
    story = briefs[lang].story
    beats = [story.today, story.what_changes, story.proof, story.what_it_means]
    assert all(beats)
    assert card_metrics.fragment_rate(beats, lang).passed
    assert card_metrics.duplicate_sentences(beats).passed
    assert story.rep_notes and card_metrics.rep_note_leakage(beats, story.rep_notes, lang).passed
    heading = "## 对贵方意味着什么" if lang == "zh" else "## What it means for you"
    assert heading in story.text


@pytest.mark.parametrize("lang", LANGS)
def test_rep_notes_are_boxed_apart_in_markdown_and_docx(
    briefs: dict[str, BriefResult], lang: str, tmp_path: Path
) -> None:
    from docx import Document as Docx

    brief = briefs[lang]
    assert brief.rep_notes
    box = "> **⚠ " + ("仅供销售参考" if lang == "zh" else "For the rep only")
    assert brief.text.count(box) == 1  # one box, on the card; the appendices carry none
    for note in brief.rep_notes:
        outside = brief.text.replace(note, "", 1)
        assert note not in outside  # each note only in the box
    path = export_brief(brief, "docx", tmp_path / "brief.docx")
    document = Docx(str(path))
    boxed = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert brief.rep_notes[0] in boxed
    body = "\n".join(p.text for p in document.paragraphs)
    assert brief.rep_notes[0] not in body
    page_break = next(i for i, p in enumerate(document.paragraphs) if 'w:br w:type="page"' in p._p.xml)
    first_page = "\n".join(p.text for p in document.paragraphs[:page_break])
    assert ("一页纸准备卡" if lang == "zh" else "Prep card") in first_page
    assert ("风险清单" if lang == "zh" else "Risk checklist") not in first_page


@pytest.mark.parametrize("lang", LANGS)
def test_cli_brief_card(lang: str, shipped_index: Any, tmp_path: Path, monkeypatch: Any) -> None:
    settings, _, _ = shipped_index
    monkeypatch.setenv("NEGO_HOME", str(settings.home))
    deal_file = tmp_path / "deal.json"
    deal_file.write_text(deal_for("traceability", lang).model_dump_json(), encoding="utf-8")
    runner = CliRunner()
    md = runner.invoke(app, ["brief", "--deal", str(deal_file), "--card"])
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("## 一页纸准备卡" if lang == "zh" else "## Prep card")
    assert ("风险清单" if lang == "zh" else "Risk checklist") not in md.stdout
    js = runner.invoke(app, ["brief", "--deal", str(deal_file), "--card", "--format", "json"])
    assert js.exit_code == 0, js.output
    data = json.loads(js.stdout)
    assert data["card"]["goal"] and len(data["card"]["highlights"]) <= 3


def test_vendor_profile_is_optional(kb: Any, shipped_index: Any) -> None:
    settings, _, _ = shipped_index
    brief = Copilot(settings, kb).brief(deal_for("traceability", "en"))
    assert brief.card is not None and all(h.proof_kind != "vendor" for h in brief.card.highlights)


def test_vendor_values_in_the_deals_language() -> None:
    from copilot.skills.story import in_language

    assert in_language("某省级农产品流通集团（示例）/ a provincial agri-products group (example)", "en") == (
        "a provincial agri-products group (example)"
    )
    assert in_language("链信联盟链平台 / ChainTrust Consortium Platform", "zh") == "链信联盟链平台"
    assert in_language("SM2/SM3", "en") == "SM2/SM3"
    assert isinstance(VendorProfile, type)


def test_pairwise_judge_compares_the_old_brief_with_the_new_card_over_http(
    briefs: dict[str, BriefResult], openai_server: Any, tmp_path: Path
) -> None:
    """LLM mode against the real OpenAI-compatible test server (its verdicts are scripted: no real model here)."""
    from openai_server import Reply
    from pydantic import SecretStr

    from copilot.llm.model import get_chat_model
    from copilot.settings import Settings
    from evals.card_compare import compare, report
    from evals.runner import Models

    old = {lang: b.model_copy(update={"card": None}) for lang, b in briefs.items()}
    settings = Settings(home=tmp_path).model_copy(
        update={
            "provider": "openai",
            "base_url": openai_server.base_url,
            "model": "gpt-4o-mini",
            "api_key": SecretStr("sk-test"),
            "timeout_s": 5.0,
        }
    )
    openai_server.script(*[Reply(json.dumps({"winner": "2", "rationale": "one page, cited"}))] * 2)
    models = Models(judge=get_chat_model(settings))
    results = compare(settings, models, old, briefs)
    assert len(results) == 2 and all(r.error is None for r in results)
    prompts = [r.body["messages"][-1]["content"] for r in openai_server.chat_requests()]
    assert any("一页纸准备卡" in p for p in prompts) and any("Prep card" in p for p in prompts)
    text = report(results, "test server (scripted)")
    assert "pairwise judge on 2 changed outputs" in text
