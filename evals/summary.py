"""From case results to a run summary; comparing two runs; gating a run on thresholds.

- `summarise`: metric means and pass rates, latency p50/p95 (overall and per
  skill), tokens and estimated cost, model calls and cache hits, judge scores
  (failures counted apart), retrieval metrics by slice.
- `compare`: metric deltas between two runs of one suite and the cases that
  regressed (passed before, not now; or a metric's score dropped).
- `gate`: each threshold of evals/thresholds.yaml checked against a summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.fit_suite import fit_slices
from evals.metrics import latency_summary
from evals.models import SUITES, CaseResult, JudgeSummary, MetricSummary, Record, RunSummary

QUALITY_EPSILON = 1e-9


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def metric_summaries(results: list[CaseResult]) -> dict[str, MetricSummary]:
    scores: dict[str, list[float]] = defaultdict(list)
    passes: dict[str, list[bool]] = defaultdict(list)
    for case in results:
        for m in case.metrics:
            scores[m.name].append(m.score)
            passes[m.name].append(m.passed)
    return {
        name: MetricSummary(
            mean=_mean(scores[name]) or 0.0,
            pass_rate=round(sum(passes[name]) / len(passes[name]), 4),
            n=len(scores[name]),
        )
        for name in sorted(scores)
    }


def judge_summary(results: list[CaseResult]) -> JudgeSummary:
    scores = [j for case in results for j in case.judge]
    ok = [j for j in scores if j.error is None and j.overall is not None]
    failed = [j for j in scores if j.error is not None]
    criteria: dict[str, list[float]] = defaultdict(list)
    for j in ok:
        for name, value in j.criteria.items():
            criteria[name].append(float(value))
    messages = sorted({j.error for j in failed if j.error})
    return JudgeSummary(
        judged=len(ok),
        failures=len(failed),
        overall=_mean(j.overall for j in ok if j.overall is not None),
        criteria={name: _mean(values) or 0.0 for name, values in sorted(criteria.items())},
        failure_messages=messages[:10],
    )


def retrieval_slices(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for case in results:
        if case.suite == "retrieval":
            groups[case.tags.get("slice", "all")].append(case)
            groups["all"].append(case)
    out: dict[str, dict[str, float]] = {}
    for name in sorted(groups):
        cases = groups[name]
        row: dict[str, float] = {"n": float(len(cases))}
        for metric in ("recall@5", "mrr@10"):
            row[metric] = _mean(m.score for c in cases for m in c.metrics if m.name == metric) or 0.0
        out[name] = row
    return out


def summarise(results: list[CaseResult], manifest: dict[str, Any], run_id: str, wall_time_s: float = 0.0) -> RunSummary:
    results = sorted(results, key=lambda r: r.index)
    outputs = [o for case in results for o in case.outputs]
    by_skill: dict[str, list[float]] = defaultdict(list)
    for o in outputs:
        by_skill[o.skill].append(o.latency_ms)
    modes: dict[str, int] = defaultdict(int)
    for o in outputs:
        if o.mode:
            modes[o.mode] += 1
    judge_usage = [j.usage for case in results for j in case.judge]
    usages = [o.usage for o in outputs] + judge_usage
    passed = sum(r.status == "pass" for r in results)
    return RunSummary(
        run_id=run_id,
        suite=manifest["suite"],
        dataset=manifest["dataset"],
        dataset_sha256=manifest["dataset_sha256"],
        provider=manifest["provider"],
        judge_provider=manifest.get("judge_provider"),
        seed=manifest["seed"],
        cases=len(results),
        passed=passed,
        failed=sum(r.status == "fail" for r in results),
        errors=sum(r.status == "error" for r in results),
        case_pass_rate=round(passed / len(results), 4) if results else 0.0,
        metrics=metric_summaries(results),
        latency_ms=latency_summary([o.latency_ms for o in outputs]),
        latency_by_skill={skill: latency_summary(values) for skill, values in sorted(by_skill.items())},
        prompt_tokens=sum(u.prompt_tokens for u in usages),
        completion_tokens=sum(u.completion_tokens for u in usages),
        cost_usd=round(sum(u.cost_usd for u in usages), 6),
        model_calls=sum(r.model_calls for r in results),
        cache_hits=sum(r.cache_hits for r in results),
        modes=dict(sorted(modes.items())),
        judge=judge_summary(results),
        slices=retrieval_slices(results) or fit_slices(results),
        wall_time_s=round(wall_time_s, 2),
    )


def summary_markdown(summary: RunSummary, results: list[CaseResult]) -> str:
    lines = [
        f"# Eval run {summary.run_id}: {summary.suite}",
        "",
        f"- dataset: `{summary.dataset}` (sha256 {summary.dataset_sha256[:12]}…)",
        f"- provider: {summary.provider}; judge: {summary.judge_provider or 'none'}; seed {summary.seed}",
        f"- cases: {summary.cases} — {summary.passed} passed, {summary.failed} failed, {summary.errors} errors "
        f"(pass rate {summary.case_pass_rate:.1%})",
        f"- latency: p50 {_ms(summary.latency_ms.p50)}, p95 {_ms(summary.latency_ms.p95)}",
        f"- tokens: {summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion; "
        f"estimated cost ${summary.cost_usd:.4f}; model calls {summary.model_calls}, cache hits {summary.cache_hits}",
        "",
        "| metric | mean | pass rate | n |",
        "|---|---:|---:|---:|",
    ]
    for name, m in summary.metrics.items():
        lines.append(f"| {name} | {m.mean:.3f} | {m.pass_rate:.1%} | {m.n} |")
    if summary.judge.judged or summary.judge.failures:
        overall = "n/a" if summary.judge.overall is None else f"{summary.judge.overall:.3f}"
        lines += ["", f"Judge: {summary.judge.judged} judged, overall {overall}; {summary.judge.failures} failures"]
        lines += [f"- judge failure: {m}" for m in summary.judge.failure_messages]
    if summary.slices:
        columns = [c for c in next(iter(summary.slices.values())) if c != "n"]
        heads = [{"recall@5": "recall@5", "mrr@10": "MRR@10"}.get(c, c) for c in columns]
        lines += ["", f"| slice | n | {' | '.join(heads)} |", "|---|---:|" + "---:|" * len(columns)]
        for name, row in summary.slices.items():
            values = " | ".join(f"{row.get(c, 0.0):.3f}" for c in columns)
            lines.append(f"| {name} | {int(row['n'])} | {values} |")
    failing = [r for r in results if r.status != "pass"]
    if failing:
        lines += ["", "## Failing cases", ""]
        for r in sorted(failing, key=lambda c: c.index):
            problems = [
                f"{m.skill + '/' if m.skill else ''}{m.name}: {'; '.join(m.problems)}" for m in r.failed_metrics()
            ]
            detail = r.error or " | ".join(problems)
            lines.append(f"- `{r.case_id}` ({r.status}): {detail[:400]}")
    return "\n".join(lines) + "\n"


def _label(skill: str | None, name: str) -> str:
    return f"{skill}/{name}" if skill else name


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


# -- compare --------------------------------------------------------------------------------------
class MetricDelta(Record):
    name: str
    a: float | None
    b: float | None
    delta: float | None
    quality: bool = Field(description="higher is better and a drop is a regression")


class CaseChange(Record):
    case_id: str
    a_status: str
    b_status: str
    dropped: list[str] = Field(default_factory=list)


class Comparison(Record):
    suite: str
    run_a: str
    run_b: str
    deltas: list[MetricDelta]
    regressed: list[CaseChange]
    improved: list[CaseChange]
    only_in_a: list[str]
    only_in_b: list[str]

    @property
    def has_regressions(self) -> bool:
        dropped = any(d.quality and d.delta is not None and d.delta < -QUALITY_EPSILON for d in self.deltas)
        return bool(self.regressed) or dropped


def _delta(name: str, a: float | None, b: float | None, quality: bool) -> MetricDelta:
    delta = None if a is None or b is None else round(b - a, 4)
    return MetricDelta(name=name, a=a, b=b, delta=delta, quality=quality)


def _scores(case: CaseResult) -> dict[str, float]:
    return {_label(m.skill, m.name): m.score for m in case.metrics}


def compare(a: RunSummary, a_results: list[CaseResult], b: RunSummary, b_results: list[CaseResult]) -> Comparison:
    if a.suite != b.suite:
        raise ValueError(f"cannot compare a {a.suite!r} run with a {b.suite!r} run")
    deltas = [_delta("case_pass_rate", a.case_pass_rate, b.case_pass_rate, True)]
    for name in sorted(set(a.metrics) | set(b.metrics)):
        ma, mb = a.metrics.get(name), b.metrics.get(name)
        deltas.append(_delta(name, ma.mean if ma else None, mb.mean if mb else None, True))
    if a.judge.overall is not None or b.judge.overall is not None:
        deltas.append(_delta("judge_overall", a.judge.overall, b.judge.overall, True))
    deltas += [
        _delta("latency_p50_ms", a.latency_ms.p50, b.latency_ms.p50, False),
        _delta("latency_p95_ms", a.latency_ms.p95, b.latency_ms.p95, False),
        _delta("tokens", a.prompt_tokens + a.completion_tokens, b.prompt_tokens + b.completion_tokens, False),
        _delta("cost_usd", a.cost_usd, b.cost_usd, False),
    ]
    a_by = {r.case_id: r for r in a_results}
    b_by = {r.case_id: r for r in b_results}
    regressed, improved = [], []
    for case_id in [r.case_id for r in sorted(b_results, key=lambda r: r.index) if r.case_id in a_by]:
        ra, rb = a_by[case_id], b_by[case_id]
        sa, sb = _scores(ra), _scores(rb)
        dropped = [f"{k}: {sa[k]:.3f} → {sb[k]:.3f}" for k in sa if k in sb and sb[k] < sa[k] - QUALITY_EPSILON]
        dropped += [f"{k}: no longer measured" for k in sa if k not in sb]
        change = CaseChange(case_id=case_id, a_status=ra.status, b_status=rb.status, dropped=dropped)
        if (ra.status == "pass" and rb.status != "pass") or dropped:
            regressed.append(change)
        elif ra.status != "pass" and rb.status == "pass":
            improved.append(change)
    return Comparison(
        suite=a.suite,
        run_a=a.run_id,
        run_b=b.run_id,
        deltas=deltas,
        regressed=regressed,
        improved=improved,
        only_in_a=sorted(set(a_by) - set(b_by)),
        only_in_b=sorted(set(b_by) - set(a_by)),
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def comparison_text(c: Comparison) -> str:
    lines = [f"{c.suite}: {c.run_a} → {c.run_b}", "", f"{'metric':<28}{'A':>10}{'B':>10}{'delta':>10}"]
    for d in c.deltas:
        flag = "  ▼" if d.quality and d.delta is not None and d.delta < -QUALITY_EPSILON else ""
        lines.append(f"{d.name:<28}{_fmt(d.a):>10}{_fmt(d.b):>10}{_fmt(d.delta):>10}{flag}")
    lines += ["", f"regressed cases: {len(c.regressed)}"]
    for r in c.regressed:
        dropped = f" ({'; '.join(r.dropped)})" if r.dropped else ""
        lines.append(f"- {r.case_id}: {r.a_status} → {r.b_status}{dropped}")
    if c.improved:
        lines.append(f"improved cases: {len(c.improved)}")
        lines += [f"- {r.case_id}: {r.a_status} → {r.b_status}" for r in c.improved]
    if c.only_in_a or c.only_in_b:
        lines.append(f"cases only in A: {len(c.only_in_a)}; only in B: {len(c.only_in_b)}")
    return "\n".join(lines)


# -- gate -----------------------------------------------------------------------------------------
class ThresholdError(ValueError):
    """The thresholds file cannot be used; the message names the file and the entry."""


class SuiteThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)


class GateCheck(Record):
    name: str
    bound: Literal["min", "max"]
    threshold: float
    value: float | None
    passed: bool


def default_thresholds() -> Path:
    return Path(__file__).resolve().parent / "thresholds.yaml"


def load_thresholds(path: Path) -> dict[str, SuiteThresholds]:
    if not path.is_file():
        raise ThresholdError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ThresholdError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ThresholdError(f"{path}: expected a mapping of suite to {{min: ..., max: ...}}")
    out: dict[str, SuiteThresholds] = {}
    for suite, entry in data.items():
        if suite not in SUITES:
            raise ThresholdError(f"{path}: {suite}: unknown suite; choose one of {', '.join(SUITES)}")
        try:
            out[suite] = SuiteThresholds.model_validate(entry or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ThresholdError(f"{path}: {suite}.{where}: {err['msg']}") from exc
    return out


def summary_value(summary: RunSummary, name: str) -> float | None:
    """A gateable figure of a summary: case_pass_rate, a metric's mean, judge_overall, latency, cost, errors."""
    fixed: dict[str, float | None] = {
        "case_pass_rate": summary.case_pass_rate,
        "errors": float(summary.errors),
        "judge_overall": summary.judge.overall,
        "latency_p50_ms": summary.latency_ms.p50,
        "latency_p95_ms": summary.latency_ms.p95,
        "cost_usd": summary.cost_usd,
    }
    if name in fixed:
        return fixed[name]
    if name in summary.metrics:
        return summary.metrics[name].mean
    if name.startswith("slice.") and name.count(".") >= 2:
        _, slice_name, metric = name.split(".", 2)
        return summary.slices.get(slice_name, {}).get(metric)
    return None


def gate(summary: RunSummary, thresholds: SuiteThresholds) -> list[GateCheck]:
    checks = []
    for bound, table in (("min", thresholds.min), ("max", thresholds.max)):
        for name, threshold in table.items():
            value = summary_value(summary, name)
            ok = value is not None and (value >= threshold if bound == "min" else value <= threshold)
            checks.append(GateCheck(name=name, bound=bound, threshold=threshold, value=value, passed=ok))  # type: ignore[arg-type]
    return checks
