"""The shipped eval datasets: coverage as the issue asks, and errors that name file, line and field."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from copilot.vocabulary import SCENARIOS
from evals.cases import (
    ADVERSARIAL_KINDS,
    DatasetError,
    default_dataset,
    load_adversarial_cases,
    load_skill_cases,
)


def test_skill_cases_cover_every_scenario_language_audience_and_stage() -> None:
    cases = load_skill_cases(default_dataset("skills"))
    assert len(cases) >= 48
    per = Counter((c.deal.scenario, c.lang) for c in cases)
    assert set(per) == {(s, lang) for s in SCENARIOS for lang in ("zh", "en")}
    assert min(per.values()) >= 2
    for scenario in SCENARIOS:
        for lang in ("zh", "en"):
            mine = [c for c in cases if c.deal.scenario == scenario and c.lang == lang]
            assert len({tuple(c.deal.audience) for c in mine}) >= 2, (scenario, lang)
            assert len({c.deal.stage for c in mine}) >= 2, (scenario, lang)
    assert {c.deal.stage for c in cases} == {"discovery", "proposal", "negotiation", "closing"}
    skills = {s for c in cases for s in c.skills}
    assert skills == {"explain", "risks", "plan", "fit", "objection", "ask", "brief"}
    expects = [c.expect for c in cases]
    assert sum(bool(e.risk_categories) for e in expects) >= 24
    assert sum(bool(e.law_cited) for e in expects) >= 12
    assert sum(bool(e.kpi_units) for e in expects) >= 24
    assert sum(bool(e.jargon) for e in expects) >= 24
    # the fit decision flow keeps deals that do not say whether one party could run it "partial" (see skills.yaml)
    assert {e.fit for e in expects} >= {"partial", "not_fit"}


def test_adversarial_cases_cover_every_kind_and_behaviour() -> None:
    cases = load_adversarial_cases(default_dataset("adversarial"))
    assert len(cases) >= 20
    kinds = Counter(c.kind for c in cases)
    assert set(kinds) == set(ADVERSARIAL_KINDS)
    assert {c.expect for c in cases} == {"refuse", "correct", "caveat", "error", "resist", "answer", "truncate"}
    walmart = [c for c in cases if c.kind == "false_figure" and "Walmart" in c.input]
    assert walmart and walmart[0].must_include_any == ["2.2"]
    assert any(c.kind == "empty_input" and not c.text.strip() for c in cases)
    assert any(c.kind == "oversized_input" and len(c.text) > 10_000 for c in cases)
    assert {c.lang for c in cases} == {"zh", "en"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_CASE = """cases:
  - id: ok
    deal:
      scenario: traceability
      language: en
    skills: [fit]
"""


def test_a_valid_minimal_file_loads(tmp_path: Path) -> None:
    (case,) = load_skill_cases(write(tmp_path, "skills.yaml", GOOD_CASE))
    assert case.id == "ok" and case.lang == "en" and case.max_chars("fit") > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD_CASE.replace("scenario: traceability", "scenario: mining"), "skills.yaml:4: cases[0].deal.scenario:"),
        (GOOD_CASE.replace("skills: [fit]", "skills: [fit, ask]"), "skills.yaml:2: cases[0]: skill 'ask' needs"),
        (GOOD_CASE + "    expect:\n      law_cited: [cn]\n", "skills.yaml:8: cases[0].expect.law_cited: "),
        (GOOD_CASE + "    colour: red\n", "skills.yaml:7: cases[0].colour: unknown field"),
        (GOOD_CASE.replace("language: en", "language: [en"), "skills.yaml:6: invalid YAML"),
        (GOOD_CASE + GOOD_CASE.split("cases:\n")[1], "skills.yaml:7: id: duplicate id 'ok'"),
    ],
    ids=["bad-scenario", "missing-input", "bad-law-prefix", "unknown-field", "yaml-syntax", "duplicate-id"],
)
def test_skill_dataset_errors_name_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "skills.yaml", text)
    with pytest.raises(DatasetError) as info:
        load_skill_cases(path)
    assert expected in str(info.value), str(info.value)
    assert str(path) in str(info.value)


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    good = '{"id": "a", "kind": "out_of_kb", "skill": "ask", "input": "weather?", "lang": "en", "expect": "refuse"}'
    bad = '{"id": "b", "kind": "out_of_kb", "skill": "ask", "input": "weather?", "lang": "fr", "expect": "refuse"}'
    path = write(tmp_path, "adv.jsonl", f"{good}\n\n{bad}\n{{not json\n")
    with pytest.raises(DatasetError) as info:
        load_adversarial_cases(path)
    message = str(info.value)
    assert f"{path}:3: lang:" in message and f"{path}:4: json:" in message


def test_adversarial_case_rules(tmp_path: Path) -> None:
    head = (
        "cases:\n  - id: x\n    kind: false_figure\n    skill: ask\n    input: Walmart took 1 second?\n    lang: en\n"
    )
    with pytest.raises(DatasetError, match=r"adv.yaml:2: cases\[0\]: expect 'correct' needs must_include_any"):
        load_adversarial_cases(write(tmp_path, "adv.yaml", head + "    expect: correct\n"))
    bad_deal = "    expect: answer\n    deal: {scenario: traceability, region: mars}\n"
    with pytest.raises(DatasetError, match=r"adv.yaml:2: cases\[0\]: deal: region"):
        load_adversarial_cases(write(tmp_path, "adv.yaml", head + bad_deal))
    # a deal the case expects to be rejected is kept raw and rejected when the case runs
    (case,) = load_adversarial_cases(write(tmp_path, "adv.yaml", head + bad_deal.replace("answer", "error")))
    with pytest.raises(ValueError, match="region"):
        case.parsed_deal()
