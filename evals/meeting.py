"""Eval suites of the meeting loop: `roleplay` (good vs bad script separation per persona) and `recap`.

roleplay: each case plays a good and a bad script of the rep's lines against one persona and deal;
it passes when the good script's overall score is at least the dataset's `margin` above the bad one.
recap: precision and recall of the extracted items on evals/datasets/recap_notes.yaml, and the
number of hedged values written into the updated deal (must be 0). Matching is evals.recap_match.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.deal import Deal, DealError, load_deal
from evals.cases import DatasetError
from evals.execute import Engine
from evals.metrics import _result
from evals.models import CaseResult, MetricResult, SkillOutput


class RoleplayCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    persona: str
    lang: str
    deal: str
    good: str
    bad: str
    base: Path = Field(default=Path("."), exclude=True)

    def deal_model(self) -> Deal:
        return load_deal(self.base / self.deal)

    def lines(self, which: str) -> list[str]:
        text = (self.base / (self.good if which == "good" else self.bad)).read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


class RoleplayCases(BaseModel):
    model_config = ConfigDict(extra="forbid")

    margin: float = 3.0
    cases: list[RoleplayCase]


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DatasetError(f"{path}{f':{mark.line + 1}' if mark else ''}: invalid YAML") from exc


def _scored(
    suite: Literal["roleplay", "recap"],
    case: RoleplayCase | RecapCase,
    index: int,
    deal: Deal,
    shown: Any,
    language: str,
    facts: dict[str, Any],
    metrics: list[MetricResult],
    passed: bool,
    started: float,
    tags: dict[str, str] | None = None,
) -> CaseResult:
    """A scored case of `suite`: its metrics, and the output shown (`shown`'s mode and text) with `facts`."""
    output = SkillOutput(
        skill=suite,
        mode=shown.mode,
        language=language,
        text=shown.text,
        facts=facts,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return CaseResult(
        case_id=case.id,
        suite=suite,
        index=index,
        lang=case.lang,
        scenario=deal.scenario,
        tags=tags or {},
        status="pass" if passed else "fail",
        metrics=metrics,
        outputs=[output],
    )


def load_roleplay_cases(path: Path) -> list[RoleplayCase]:
    try:
        data = RoleplayCases.model_validate(_yaml(path))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DatasetError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from exc
    cases = []
    for case in data.cases:
        case = case.model_copy(update={"base": path.parent})
        for name in (case.deal, case.good, case.bad):
            if not (path.parent / name).is_file():
                raise DatasetError(f"{path}: {case.id}: file not found: {name}")
        cases.append(case)
    return cases


def roleplay_margin(path: Path) -> float:
    return RoleplayCases.model_validate(_yaml(path)).margin


def run_roleplay_case(engine: Engine, case: RoleplayCase, index: int, margin: float) -> CaseResult:
    started = time.perf_counter()
    try:
        deal = case.deal_model()
        good = engine.copilot.roleplay(deal, case.persona, case.lines("good"), case.lang)
        bad = engine.copilot.roleplay(deal, case.persona, case.lines("bad"), case.lang)
    except (DealError, OSError, ValueError) as exc:
        return CaseResult(
            case_id=case.id, suite="roleplay", index=index, lang=case.lang, status="error", error=str(exc)
        )
    gap = round(good.scorecard.overall - bad.scorecard.overall, 1)
    problems = (
        [] if gap >= margin else [f"good {good.scorecard.overall} - bad {bad.scorecard.overall} = {gap} < {margin}"]
    )
    metrics = [
        _result("roleplay_separation", gap / 10, problems, "roleplay"),
        _result("roleplay_good_score", good.scorecard.overall / 10, [], "roleplay"),
    ]
    facts = {
        "good": {i.key: i.score for i in good.scorecard.items},
        "bad": {i.key: i.score for i in bad.scorecard.items},
        "gap": gap,
    }
    return _scored(
        "roleplay", case, index, deal, good, case.lang, facts, metrics, not problems, started, {"persona": case.persona}
    )


class RecapCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    lang: str
    deal: dict[str, Any]
    notes: str
    expected: dict[str, Any]

    def deal_model(self) -> Deal:
        from copilot.deal import deal_from_data

        return deal_from_data({**self.deal, "language": self.lang}, f"{self.id}.deal")


def load_recap_cases(path: Path) -> list[RecapCase]:
    data = _yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise DatasetError(f"{path}: expected a mapping with a `cases:` list")
    cases = []
    for number, raw in enumerate(data["cases"]):
        try:
            case = RecapCase.model_validate(raw)
            case.deal_model()
        except (ValidationError, DealError) as exc:
            raise DatasetError(f"{path}: cases[{number}]: {exc}") from exc
        cases.append(case)
    return cases


def run_recap_case(engine: Engine, case: RecapCase, index: int) -> CaseResult:
    from evals.recap_match import hedged_overwrites, score_recap

    started = time.perf_counter()
    deal = case.deal_model()
    try:
        recap = engine.copilot.recap(deal, case.notes)
    except ValueError as exc:
        return CaseResult(case_id=case.id, suite="recap", index=index, lang=case.lang, status="error", error=str(exc))
    tallies = score_recap(case.expected, recap)
    tp = sum(t.tp for t in tallies.values())
    fp = sum(t.fp for t in tallies.values())
    fn = sum(t.fn for t in tallies.values())
    overwrites = hedged_overwrites(case.expected, recap.updated_deal)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    misses = [m for t in tallies.values() for m in t.misses]
    extras = [m for t in tallies.values() for m in t.extras]
    metrics = [
        _result("recap_precision", precision, [], "recap"),
        _result("recap_recall", recall, [], "recap"),
        _result(
            "hedge_safety", 0.0 if overwrites else 1.0, [f"hedged value written: {v}" for v in overwrites], "recap"
        ),
    ]
    facts = {
        "counts": {name: [t.tp, t.fp, t.fn] for name, t in tallies.items()},
        "misses": misses[:40],
        "extras": extras[:40],
        "hedged_overwrites": overwrites,
    }
    return _scored("recap", case, index, deal, recap, recap.language, facts, metrics, not overwrites, started)


MEETING_LOADERS: dict[str, Callable[[Path], list[Any]]] = {"roleplay": load_roleplay_cases, "recap": load_recap_cases}


def meeting_runner(suite: str, path: Path, engine: Engine) -> Callable[[Any, int], CaseResult]:
    if suite == "roleplay":
        margin = roleplay_margin(path)
        return lambda case, index: run_roleplay_case(engine, case, index, margin)
    if suite == "recap":
        return lambda case, index: run_recap_case(engine, case, index)
    raise ValueError(f"not a meeting suite: {suite}")
