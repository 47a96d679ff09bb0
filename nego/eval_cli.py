"""`nego eval run | compare | gate`: batch evaluations (registered onto nego.base's `eval_app`).

Exit codes: run 0 (130 when interrupted: rerun with the same --out to resume);
compare 0 without regressions, 1 with regressions; gate 0 when every threshold
holds, 1 when one does not. Any of them exits 2 on a usage problem (unknown
suite, missing run, invalid dataset or thresholds file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from evals.models import SUITES
from nego.base import ConfigOpt, _check_choice, eval_app, fail, load_settings

PROVIDERS = ("offline", "openai", "deepseek", "qwen", "vllm", "ollama", "llamacpp", "custom")


def _resolve_run(settings_home: Path, run: str) -> Path:
    """A run directory given as a path, or as a run id under NEGO_HOME/evals/runs."""
    path = Path(run)
    if path.is_dir():
        return path
    candidate = settings_home / "evals" / "runs" / run
    if candidate.is_dir():
        return candidate
    fail(f"no eval run {run!r} (neither a directory nor a run id under {settings_home / 'evals' / 'runs'})")


def _check_dataset(suite: str, dataset: Path | None) -> None:
    """Validate a --dataset before anything slow (opening the index, models) so a typo fails at once."""
    if dataset is None:
        return
    from evals.cases import DatasetError, load_adversarial_cases, load_skill_cases
    from evals.fit_suite import load_fit_cases
    from evals.meeting import MEETING_LOADERS
    from evals.negotiation import load_negotiation_cases
    from evals.retrieval import DatasetError as GoldDatasetError
    from evals.retrieval import load_gold
    from evals.understanding import load_understanding_cases

    loaders = {
        "skills": load_skill_cases,
        "adversarial": load_adversarial_cases,
        "retrieval": load_gold,
        "fit": load_fit_cases,
        "understanding": load_understanding_cases,
        "negotiation": load_negotiation_cases,
    }
    loaders |= MEETING_LOADERS
    try:
        loaders[suite](dataset)
    except (DatasetError, GoldDatasetError) as exc:
        fail(str(exc))


@eval_app.command("run")
def eval_run(
    suite: Annotated[
        str,
        typer.Option(
            "--suite", help="A suite: skills, adversarial, retrieval, understanding, negotiation, fit, roleplay, recap."
        ),
    ],
    provider: Annotated[
        str, typer.Option("--provider", help="offline, or a configured provider for the copilot's model.")
    ] = "offline",
    judge: Annotated[
        str | None, typer.Option("--judge", help="Provider of the model judge (rubric scores); default: none.")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Cases run at once when a model is used.", min=1, max=64)] = 4,
    limit: Annotated[int | None, typer.Option(help="Run only the first K cases.", min=1)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run directory (default: NEGO_HOME/evals/runs/ID).")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Run id under NEGO_HOME/evals/runs.")] = None,
    dataset: Annotated[Path | None, typer.Option(help="Dataset file (default: the shipped one).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for everything random (pairwise order).")] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Run a suite, score it and write results.jsonl, summary.json/.md and report.html (resumable)."""
    _check_choice("suite", suite, SUITES)
    _check_choice("provider", provider, PROVIDERS)
    _check_choice("judge", judge, PROVIDERS)
    if out is not None and run_id is not None:
        fail("give --out or --run-id, not both")
    from copilot.index.store import IndexUnavailableError
    from copilot.knowledge import KnowledgeBase, KnowledgeError
    from copilot.llm.errors import ModelConfigError
    from evals.cases import DatasetError
    from evals.retrieval import DatasetError as GoldDatasetError
    from evals.runner import RunConfig, RunDirError, new_run_id, open_models, run_suite, runs_dir
    from evals.summary import summary_markdown

    settings = load_settings(config)
    _check_dataset(suite, dataset)
    out_dir = out or runs_dir(settings) / (run_id or new_run_id(suite))
    run_config = RunConfig(
        suite=suite,  # type: ignore[arg-type]
        out_dir=out_dir,
        dataset=dataset,
        provider=provider,
        judge_provider=judge,
        concurrency=concurrency,
        limit=limit,
        seed=seed,
    )
    try:
        models = open_models(settings, provider, judge)
    except ModelConfigError as exc:
        fail(str(exc))
    try:
        kb = KnowledgeBase.open(settings)
    except (KnowledgeError, IndexUnavailableError) as exc:
        fail(str(exc))
    try:
        summary = run_suite(settings, kb, run_config, models, progress=progress)
    except (DatasetError, GoldDatasetError, RunDirError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.secho(f"interrupted; rerun with --out {out_dir} to resume", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130) from None
    from evals.runner import read_results

    typer.echo(summary_markdown(summary, read_results(out_dir / "results.jsonl")).split("\n## Failing")[0].rstrip())
    typer.echo(f"\nrun directory: {out_dir}\nreport: {out_dir / 'report.html'}")


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[str, typer.Argument(help="The earlier run (directory or run id).")],
    run_b: Annotated[str, typer.Argument(help="The later run (directory or run id).")],
    judge: Annotated[
        str | None, typer.Option("--judge", help="Also judge changed outputs pairwise with this provider.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the pairwise order.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Metric deltas between two runs of one suite, and the cases that regressed (exit 1 if any)."""
    _check_choice("judge", judge, PROVIDERS)
    from evals.runner import RunDirError, load_run
    from evals.summary import compare, comparison_text

    settings = load_settings(config)
    try:
        a, a_results = load_run(_resolve_run(settings.home_dir, run_a))
        b, b_results = load_run(_resolve_run(settings.home_dir, run_b))
        comparison = compare(a, a_results, b, b_results)
    except (RunDirError, ValueError) as exc:
        fail(str(exc))
    pairwise_text = ""
    if judge not in (None, "offline"):
        from copilot.llm.errors import ModelConfigError
        from evals.pairwise import judge_pairs, pairwise_text_of
        from evals.runner import open_models

        try:
            models = open_models(settings, "offline", judge)
        except ModelConfigError as exc:
            fail(str(exc))
        judge_settings = settings.model_copy(update={"provider": judge})  # its endpoint decides redaction
        pairs = judge_pairs(judge_settings, models, a_results, b_results, seed)
        pairwise_text = pairwise_text_of(pairs)
    if as_json:
        typer.echo(json.dumps(comparison.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        typer.echo(comparison_text(comparison))
        if pairwise_text:
            typer.echo("\n" + pairwise_text)
    if comparison.has_regressions:
        raise typer.Exit(1)


@eval_app.command("gate")
def eval_gate(
    run: Annotated[str, typer.Argument(help="The run to check (directory or run id).")],
    thresholds: Annotated[
        Path | None, typer.Option(help="Thresholds file (default: the shipped evals/thresholds.yaml).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Exit 1 when the run falls below a threshold of its suite (each check is printed)."""
    from evals.runner import RunDirError, load_run
    from evals.summary import ThresholdError, default_thresholds, gate, load_thresholds

    thresholds = thresholds or default_thresholds()
    settings = load_settings(config)
    try:
        table = load_thresholds(thresholds)
    except ThresholdError as exc:
        fail(str(exc))
    except UnicodeDecodeError as exc:
        fail(f"{thresholds}: not valid UTF-8 (offset {exc.start})")
    try:
        summary, _ = load_run(_resolve_run(settings.home_dir, run))
    except RunDirError as exc:
        fail(str(exc))
    if summary.suite not in table:
        fail(f"{thresholds}: no thresholds for suite {summary.suite!r}")
    checks = gate(summary, table[summary.suite])
    if not checks:
        fail(f"{thresholds}: suite {summary.suite!r} has no thresholds")
    for c in checks:
        value = "missing" if c.value is None else f"{c.value:.4g}"
        sign = ">=" if c.bound == "min" else "<="
        status = "ok  " if c.passed else "FAIL"
        typer.echo(f"{status} {summary.suite}.{c.name} = {value} (needs {sign} {c.threshold:g})")
    failed = [c for c in checks if not c.passed]
    if failed:
        typer.secho(f"gate failed: {len(failed)} of {len(checks)} thresholds not met", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"gate passed: {len(checks)} thresholds met ({summary.cases} cases)")
