"""Run a suite: cases in dataset order, results appended per case, resumable, then summary and report.

A run lives in one directory (NEGO_HOME/evals/runs/ID, or --out):

    run.json       what was run: suite, dataset and its sha256, provider, models, judge, seed
    results.jsonl  one CaseResult per line, appended as each case finishes, in dataset order
    summary.json   the RunSummary (written when every selected case is done)
    summary.md     the same in Markdown, failing cases listed
    report.html    a self-contained report (evals.report)

Rerunning with the same directory resumes: cases already in results.jsonl are
skipped (a line cut by a crash is dropped and redone). A directory holding a
different run (other suite, dataset content, provider, model, judge or seed) is
refused rather than mixed.

Model calls (the copilot's in LLM mode, the judge's) go through a response
cache under NEGO_HOME/evals/cache (evals.cache): a rerun makes no model call.
With a model, cases run on `concurrency` threads (retrieval is serialised by
evals.recording); without one they run in order on this thread. Results are
written in dataset order whatever order the threads finish in.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copilot.core import Copilot
from copilot.knowledge import KnowledgeBase
from copilot.settings import Settings
from evals.cases import dataset_sha256, default_dataset, load_adversarial_cases, load_skill_cases
from evals.execute import Engine, run_adversarial_case, run_retrieval_case, run_skill_case
from evals.fit_suite import load_fit_cases, run_fit_case
from evals.judge import Judge
from evals.meeting import MEETING_LOADERS, meeting_runner
from evals.models import CaseResult, RunSummary, Suite
from evals.recording import RecordingKnowledgeBase
from evals.report import render_report
from evals.retrieval import load_gold
from evals.summary import summarise, summary_markdown
from evals.understanding import load_understanding_cases, run_understanding_case

RESULTS = "results.jsonl"
MANIFEST = "run.json"
SUMMARY = "summary.json"
SUMMARY_MD = "summary.md"
REPORT = "report.html"
IDENTITY_KEYS = ("suite", "dataset_sha256", "provider", "model", "judge_provider", "judge_model", "seed")


class RunDirError(ValueError):
    """The run directory cannot be used for this run (it holds another run, or it is unreadable)."""


@dataclass(frozen=True)
class RunConfig:
    suite: Suite
    out_dir: Path
    dataset: Path | None = None
    provider: str = "offline"
    judge_provider: str | None = None
    concurrency: int = 4
    limit: int | None = None
    seed: int = 0

    @property
    def dataset_path(self) -> Path:
        return self.dataset or default_dataset(self.suite)


@dataclass
class Models:
    """The chat models of a run, both reading and writing one response cache."""

    copilot: Any = None
    judge: Any = None
    cache: Any = None
    copilot_name: str | None = None
    judge_name: str | None = None


def runs_dir(settings: Settings) -> Path:
    return settings.home_dir / "evals" / "runs"


def cache_dir(settings: Settings) -> Path:
    return settings.home_dir / "evals" / "cache"


def new_run_id(suite: str, now: datetime | None = None) -> str:
    """Sortable by time; the random tail keeps two runs started in the same second apart."""
    return f"{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}-{suite}-{secrets.token_hex(2)}"


def open_models(settings: Settings, provider: str, judge_provider: str | None) -> Models:
    """Chat models for the copilot (unless offline) and the judge, with the run cache attached.

    Raises copilot.llm.errors.ModelConfigError when a provider is not configured.
    """
    if provider == "offline" and judge_provider in (None, "offline"):
        return Models()
    from copilot.llm.model import get_chat_model, resolve_model_name
    from evals.cache import ResponseCache, attach_cache

    cache = ResponseCache(cache_dir(settings))
    models = Models(cache=cache)
    if provider != "offline":
        s = settings.model_copy(update={"provider": provider})
        models.copilot = attach_cache(get_chat_model(s), cache)
        models.copilot_name = resolve_model_name(s)
    if judge_provider not in (None, "offline"):
        s = settings.model_copy(update={"provider": judge_provider})
        models.judge = attach_cache(get_chat_model(s), cache)
        models.judge_name = resolve_model_name(s)
    return models


# -- run directory --------------------------------------------------------------------------------
def manifest_for(config: RunConfig, models: Models) -> dict[str, Any]:
    path = config.dataset_path
    return {
        "suite": config.suite,
        "dataset": str(path),
        "dataset_sha256": dataset_sha256(path),
        "provider": config.provider,
        "model": models.copilot_name,
        "judge_provider": config.judge_provider,
        "judge_model": models.judge_name,
        "seed": config.seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _check_manifest(out_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    path = out_dir / MANIFEST
    if not path.is_file():
        if (out_dir / RESULTS).exists():
            raise RunDirError(f"{out_dir}: has {RESULTS} but no {MANIFEST}; use another --out")
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return manifest
    try:
        existing: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: unreadable run manifest ({exc})") from exc
    differs = [k for k in IDENTITY_KEYS if existing.get(k) != manifest.get(k)]
    if differs:
        details = ", ".join(f"{k}: {existing.get(k)!r} → {manifest.get(k)!r}" for k in differs)
        raise RunDirError(f"{out_dir} holds a different run ({details}); use a new --out to start a fresh run")
    return existing


def read_results(path: Path, repair: bool = False) -> list[CaseResult]:
    """The case results in `path`; a last line cut by an interrupt is dropped (and removed if `repair`)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    results: list[CaseResult] = []
    good = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            results.append(CaseResult.model_validate_json(line))
        except ValidationError as exc:
            if number == len(lines):  # written partially when the run was cut
                break
            raise RunDirError(f"{path}:{number}: not a case result ({exc.errors()[0]['msg']})") from exc
        good = number
    if repair and good < len(lines):
        path.write_text("".join(lines[:good]), encoding="utf-8")
    return results


def _append(path: Path, result: CaseResult) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(result.model_dump_json() + "\n")
        handle.flush()


# -- the run --------------------------------------------------------------------------------------
def load_suite(config: RunConfig) -> list[Any]:
    """The cases of the suite in dataset order (the first `limit` of them)."""
    path = config.dataset_path
    cases: Sequence[Any]
    if config.suite == "skills":
        cases = load_skill_cases(path)
    elif config.suite == "adversarial":
        cases = load_adversarial_cases(path)
    elif config.suite == "understanding":
        cases = load_understanding_cases(path)
    elif config.suite == "negotiation":
        from evals.negotiation import load_negotiation_cases

        cases = load_negotiation_cases(path)
    elif config.suite == "fit":
        cases = load_fit_cases(path)
    elif config.suite in MEETING_LOADERS:
        cases = MEETING_LOADERS[config.suite](path)
    else:
        cases = load_gold(path)
    return list(cases[: config.limit] if config.limit else cases)


def _runner(config: RunConfig, engine: Engine) -> Callable[[Any, int], CaseResult]:
    if config.suite == "skills":
        return lambda case, index: run_skill_case(engine, case, index)
    if config.suite == "adversarial":
        return lambda case, index: run_adversarial_case(engine, case, index)
    if config.suite == "understanding":
        return lambda case, index: run_understanding_case(engine.kb, case, index)
    if config.suite == "negotiation":
        from evals.negotiation import run_negotiation_case

        return lambda case, index: run_negotiation_case(engine, case, index)
    if config.suite == "fit":
        return lambda case, index: run_fit_case(engine, case, index)
    if config.suite in MEETING_LOADERS:
        return meeting_runner(config.suite, config.dataset_path, engine)
    return lambda case, index: run_retrieval_case(engine, case, index)


class _Progress:
    def __init__(self, enabled: bool, total: int, done: int, label: str) -> None:
        self.bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
                console=Console(stderr=True),
            )
            self.task = self.bar.add_task(label, total=total, completed=done)
            self.bar.start()

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run_suite(
    settings: Settings,
    kb: KnowledgeBase,
    config: RunConfig,
    models: Models | None = None,
    *,
    progress: bool = True,
    on_case: Callable[[CaseResult], None] | None = None,
) -> RunSummary:
    """Run (or resume) the suite into config.out_dir and write its summary and report.

    `on_case` is called after each case result is written (tests use it to simulate an interrupt).
    KeyboardInterrupt propagates after the finished cases are saved.
    """
    models = models or Models()
    out = config.out_dir
    manifest = _check_manifest(out, manifest_for(config, models))
    cases = load_suite(config)
    results_path = out / RESULTS
    done = {r.case_id: r for r in read_results(results_path, repair=True)}
    pending = [(i, case) for i, case in enumerate(cases) if case.id not in done]

    rkb = kb if isinstance(kb, RecordingKnowledgeBase) else RecordingKnowledgeBase(kb)
    judge_settings = settings.model_copy(update={"provider": config.judge_provider})  # its endpoint decides redaction
    judge = Judge(models.judge, judge_settings, seed=config.seed) if models.judge is not None else None
    engine = Engine(copilot=Copilot(settings, rkb, model=models.copilot), kb=rkb, judge=judge, cache=models.cache)
    run_case = _runner(config, engine)
    threaded = (models.copilot is not None or models.judge is not None) and config.concurrency > 1
    started = time.perf_counter()
    bar = _Progress(progress, len(cases), len(cases) - len(pending), f"eval {config.suite}")
    try:
        if threaded:
            rkb.warm_up()
            with ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="eval") as pool:
                futures: list[Future[CaseResult]] = [pool.submit(run_case, case, i) for i, case in pending]
                try:
                    for future in futures:  # in dataset order, whatever order they finish in
                        _record(results_path, future.result(), done, bar, on_case)
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        else:
            for i, case in pending:
                _record(results_path, run_case(case, i), done, bar, on_case)
    finally:
        bar.stop()
    wanted = [done[case.id] for case in cases]
    summary = summarise(wanted, manifest, out.name, time.perf_counter() - started)
    write_outputs(out, summary, wanted)
    return summary


def _record(
    path: Path,
    result: CaseResult,
    done: dict[str, CaseResult],
    bar: _Progress,
    on_case: Callable[[CaseResult], None] | None,
) -> None:
    _append(path, result)
    done[result.case_id] = result
    bar.advance()
    if on_case is not None:
        on_case(result)


def write_outputs(out: Path, summary: RunSummary, results: list[CaseResult]) -> None:
    (out / SUMMARY).write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (out / SUMMARY_MD).write_text(summary_markdown(summary, results), encoding="utf-8")
    (out / REPORT).write_text(render_report(summary, results), encoding="utf-8")


def load_run(run_dir: Path) -> tuple[RunSummary, list[CaseResult]]:
    """A finished run's summary and results (RunDirError if it is not a finished run)."""
    path = run_dir / SUMMARY
    if not path.is_file():
        if (run_dir / RESULTS).is_file():
            raise RunDirError(f"{run_dir}: the run did not finish (no {SUMMARY}); rerun it with --out {run_dir}")
        raise RunDirError(f"{run_dir}: not an eval run directory (no {SUMMARY})")
    try:
        summary = RunSummary.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise RunDirError(f"{path}: not a run summary ({exc.errors()[0]['msg']})") from exc
    return summary, read_results(run_dir / RESULTS)
