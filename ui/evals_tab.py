"""The evals tab: run a suite of the eval harness, read its summary and per-case results, compare two runs.

Everything shown comes from the harness (`evals.runner`, `evals.summary`) and
the files it writes under NEGO_HOME/evals/runs; when the harness is not
installed the tab says what is missing and shows no scores. Retrieval quality
on the gold queries can always be measured: that evaluation ships with the index.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from ui.context import AppContext
from ui.labels import Labels, ui_text
from ui.render import safe_md

CASE_COLUMNS = ["#", "case", "status", "lang", "scenario", "failed checks"]


def harness_available() -> bool:
    try:
        return importlib.util.find_spec("evals.runner") is not None
    except ModuleNotFoundError:
        return False


def run_ids(ctx: AppContext) -> list[str]:
    """Finished runs (those with a summary), newest first."""
    if not harness_available():
        return []
    from evals.runner import SUMMARY, runs_dir

    folder = runs_dir(ctx.settings)
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if (p / SUMMARY).is_file()), reverse=True)


def harness_md(ctx: AppContext, lang: str) -> str:
    if not harness_available():
        return ui_text(lang, "evals.missing")
    runs = run_ids(ctx)
    count = ui_text(lang, "evals.runs", count=len(runs)) if runs else ui_text(lang, "evals.no_runs")
    return ui_text(lang, "evals.installed") + " " + count


def case_rows(results: list[Any]) -> list[list[Any]]:
    rows = []
    for r in sorted(results, key=lambda c: (c.status == "pass", c.index)):  # failures first
        failed = "; ".join(f"{m.skill + '/' if m.skill else ''}{m.name}" for m in r.failed_metrics())
        rows.append([r.index + 1, r.case_id, r.status, r.lang or "", r.scenario or "", r.error or failed])
    return rows


def show_run(ctx: AppContext, run_id: str) -> tuple[Any, ...]:
    from evals.runner import REPORT, RunDirError, load_run, runs_dir
    from evals.summary import summary_markdown

    run_dir = runs_dir(ctx.settings) / Path(run_id or "").name
    try:
        summary, results = load_run(run_dir)
    except RunDirError as exc:
        return "⚠ " + safe_md(str(exc)), [], gr.skip()
    report = run_dir / REPORT
    download: Any = gr.skip()
    if report.is_file():  # served from the app's own download folder, not from NEGO_HOME
        copy = ctx.new_files_dir() / f"report-{run_dir.name}.html"
        shutil.copyfile(report, copy)
        download = gr.DownloadButton(value=str(copy), interactive=True)
    return safe_md(summary_markdown(summary, results)), case_rows(results), download


def run_eval(ctx: AppContext, suite: str, provider: str, limit: float | None, progress: gr.Progress) -> tuple[Any, ...]:
    from copilot.llm.errors import ModelConfigError
    from evals.cases import DatasetError
    from evals.retrieval import DatasetError as GoldDatasetError
    from evals.runner import RunConfig, RunDirError, load_suite, new_run_id, open_models, run_suite, runs_dir

    config = RunConfig(
        suite=suite,  # type: ignore[arg-type]
        out_dir=runs_dir(ctx.settings) / new_run_id(suite),
        provider=provider,
        limit=int(limit) if limit and limit > 0 else None,  # empty or 0: every case
    )
    try:
        models = open_models(ctx.settings, provider, None)
        total = len(load_suite(config))
    except (ModelConfigError, DatasetError, GoldDatasetError) as exc:
        return "⚠ " + safe_md(str(exc)), [], gr.skip(), gr.skip(), gr.skip()
    done = 0

    def step(_result: Any) -> None:
        nonlocal done
        done += 1
        progress((done, total), desc=f"{suite}: {done}/{total}")

    progress((0, total), desc=f"{suite}: 0/{total}")
    try:
        run_suite(ctx.settings, ctx.copilot.kb, config, models, progress=False, on_case=step)
    except (DatasetError, GoldDatasetError, RunDirError) as exc:
        return "⚠ " + safe_md(str(exc)), [], gr.skip(), gr.skip(), gr.skip()
    text, rows, download = show_run(ctx, config.out_dir.name)
    runs = run_ids(ctx)
    return text, rows, download, gr.Dropdown(choices=runs, value=config.out_dir.name), gr.Dropdown(choices=runs)


def compare_runs(ctx: AppContext, run_a: str, run_b: str, lang: str = "zh") -> str:
    from evals.runner import RunDirError, load_run, runs_dir
    from evals.summary import compare, comparison_text

    if not run_a or not run_b:
        return ui_text(lang, "evals.choose_two")
    folder = runs_dir(ctx.settings)
    try:
        a, a_results = load_run(folder / Path(run_a).name)
        b, b_results = load_run(folder / Path(run_b).name)
        comparison = compare(a, a_results, b, b_results)
    except (RunDirError, ValueError) as exc:
        return "⚠ " + safe_md(str(exc))
    return "```text\n" + comparison_text(comparison) + "\n```"


def retrieval_eval(ctx: AppContext, progress: gr.Progress) -> str:
    from evals.retrieval import DatasetError, default_dataset, evaluate, format_table, load_gold

    try:
        gold = load_gold(default_dataset())
    except DatasetError as exc:
        return "⚠ " + safe_md(str(exc))
    progress(0, desc=f"{len(gold)} gold queries × 3 rankers")
    report = evaluate(ctx.copilot.kb.retriever, gold)
    return "```text\n" + format_table(report) + "\n```"


def _harness_section(ctx: AppContext, labels: Labels) -> None:
    from evals.models import SUITES

    t = labels.t
    providers = ["offline"] + ([ctx.settings.provider] if ctx.settings.provider != "offline" else [])
    with gr.Row():
        suite = labels.reg(
            gr.Dropdown(list(SUITES), value="retrieval", label=t("evals.suite"), elem_id="eval-suite"),
            label="evals.suite",
        )
        provider = labels.reg(
            gr.Dropdown(providers, value="offline", label=t("evals.provider"), elem_id="eval-provider"),
            label="evals.provider",
        )
        # minimum 0, not 1: an empty box is sent as 0, which means "all" (it used to fail validation).
        limit = labels.reg(
            gr.Number(value=None, precision=0, minimum=0, label=t("evals.limit"), elem_id="eval-limit"),
            label="evals.limit",
        )
        run = labels.reg(gr.Button(t("evals.run"), variant="primary", elem_id="eval-run"), value="evals.run")
    with gr.Row():
        shown = labels.reg(
            gr.Dropdown(run_ids(ctx), value=None, label=t("evals.show"), elem_id="eval-show"), label="evals.show"
        )
        report = labels.reg(
            gr.DownloadButton(t("evals.report"), interactive=False, elem_id="eval-report"), value="evals.report"
        )
    summary = gr.Markdown("", elem_id="eval-summary")
    cases = labels.reg(
        gr.Dataframe(headers=CASE_COLUMNS, label=t("evals.cases"), interactive=False, wrap=True), label="evals.cases"
    )
    with gr.Row():
        run_a = labels.reg(
            gr.Dropdown(run_ids(ctx), value=None, label=t("evals.run_a"), elem_id="eval-run-a"), label="evals.run_a"
        )
        run_b = labels.reg(
            gr.Dropdown(run_ids(ctx), value=None, label=t("evals.run_b"), elem_id="eval-run-b"), label="evals.run_b"
        )
        compare_btn = labels.reg(gr.Button(t("evals.compare"), elem_id="eval-compare"), value="evals.compare")
    comparison = gr.Markdown("", elem_id="eval-comparison")

    def do_run(
        suite: str,
        provider: str,
        limit: float | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects its tracker through this default
    ) -> tuple[Any, ...]:
        text, rows, download, show_update, other = run_eval(ctx, suite, provider, limit, progress)
        return text, rows, download, show_update, other, other

    run.click(
        do_run,
        [suite, provider, limit],
        [summary, cases, report, shown, run_a, run_b],
        api_name="eval_run",
        concurrency_limit=1,
    )

    def do_show(run_id: str) -> tuple[Any, ...]:
        return show_run(ctx, run_id)

    shown.input(do_show, [shown], [summary, cases, report], api_name="eval_show")

    def do_compare(run_a: str, run_b: str, ui_language: str) -> str:
        return compare_runs(ctx, run_a, run_b, ui_language)

    compare_btn.click(do_compare, [run_a, run_b, labels.language_input()], [comparison], api_name="eval_compare")


def build_evals_tab(ctx: AppContext, labels: Labels) -> gr.Markdown:
    """Builds the tab (shown in the admin view); returns the harness status component (refreshed on page load)."""
    status = labels.reg(
        gr.Markdown(harness_md(ctx, labels.lang), elem_id="evals-status"), value=lambda lang: harness_md(ctx, lang)
    )
    if harness_available():
        _harness_section(ctx, labels)
    gr.Markdown("#### Retrieval quality (recall@5, MRR@10 on evals/datasets/retrieval.jsonl)")
    run = labels.reg(gr.Button(labels.t("evals.retrieval"), elem_id="eval-retrieval"), value="evals.retrieval")
    table = gr.Markdown("", elem_id="eval-retrieval-table")

    def run_retrieval(progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        return retrieval_eval(ctx, progress)

    run.click(run_retrieval, None, [table], api_name="eval_retrieval", concurrency_limit=1)
    return status
