"""Eval throughput: skills cases per second offline, and in LLM mode with N concurrent model calls.

    python bench/eval_throughput.py                         # offline, then N = 1, 4, 8 at 1 s per model call
    python bench/eval_throughput.py --home ~/.nego --latency 2 --concurrency 1,8
    python bench/eval_throughput.py --limit 8 --part llm    # a quick look

Runs go through evals.runner.run_suite, what `nego eval run --suite skills` runs (results, summary and
report written into a temp dir; every LLM run gets a fresh NEGO_HOME, hence an empty response cache).

LLM mode uses the test model server (tests/openai_server.py, 127.0.0.1) with a fixed latency per chat
request, like a real model, so concurrency matters. The server answers each request with a valid
structured answer learnt in a calibration pass (bench/_llm.py); the table reports how many outputs were
the model's and how many fell back to the offline answer because the answer failed the copilot's checks.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchError, add_common_args, emit, indexed_home, offline_environment, peak_mb, table
from bench._llm import DraftBook, answer_with, llm_settings, model_server
from copilot.core import Copilot
from copilot.knowledge import KnowledgeBase
from copilot.llm.model import get_chat_model
from copilot.settings import Settings
from evals.cases import SkillCase
from evals.execute import Engine
from evals.recording import RecordingKnowledgeBase
from evals.runner import RunConfig, load_suite, open_models, run_suite

REQUESTS_PER_CALL = 3
"""Server answers scripted per skill call: the answer, a retry round, and slack."""


def run_once(settings: Settings, kb: KnowledgeBase, config: RunConfig, models: Any = None) -> dict[str, Any]:
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = run_suite(settings, kb, config, models, progress=False)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # every thread of this process, the test server's included
    outputs = sum(summary.modes.values())
    return {
        "mode": config.provider,
        "concurrency": config.concurrency if models is not None else 1,
        "cases": summary.cases,
        "outputs": outputs,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cases_per_s": round(summary.cases / wall, 2),
        "outputs_per_s": round(outputs / wall, 2),
        "llm_outputs": summary.modes.get("llm", 0),
        "fallback_outputs": summary.modes.get("offline", 0) if models is not None else 0,
        "model_calls": summary.model_calls,
        "case_pass_rate": round(summary.case_pass_rate, 3),
        "latency_p50_ms": summary.latency_ms.p50,
        "peak_mb": peak_mb(),
    }


def calibrate(kb: RecordingKnowledgeBase, settings: Settings, server: Any, cases: list[SkillCase]) -> DraftBook:
    """Learn a valid answer for every (case, skill), one call at a time (the server answers 401 meanwhile)."""
    llm = llm_settings(settings, server)
    engine = Engine(copilot=Copilot(llm, kb, get_chat_model(llm)), kb=kb)
    book = DraftBook()
    for case in cases:
        for skill in case.skills:
            book.calibrate(engine, server, case, skill)
    return book


def child(args: argparse.Namespace, settings: Settings, work: Path) -> dict[str, Any]:
    """One timed eval run in this (fresh) process: `--child offline` or `--child N` (LLM, N threads)."""
    kb = KnowledgeBase.open(settings)  # as `nego eval run` does before the run; its lazy loads count
    if args.child == "offline":
        config = RunConfig(suite="skills", out_dir=work / "run", limit=args.limit)
        return run_once(settings.model_copy(update={"home": work / "home"}), kb, config)
    n = int(args.child)
    book = DraftBook(drafts=json.loads(args.drafts.read_text(encoding="utf-8")))
    with model_server() as server:
        llm = llm_settings(settings.model_copy(update={"home": work / "home"}), server)
        calls = sum(len(c.skills) for c in load_suite(RunConfig(suite="skills", out_dir=work, limit=args.limit)))
        answer_with(server, book, calls * REQUESTS_PER_CALL, args.latency)
        config = RunConfig(suite="skills", out_dir=work / "run", provider="custom", concurrency=n, limit=args.limit)
        result = run_once(llm, kb, config, open_models(llm, "custom", None))
        result["answered_401"] = book.unknown
        result["script_exhausted"] = server.pending == 0
    return result


def in_child(what: str, args: argparse.Namespace, home: Path, drafts: Path | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", what, "--home", str(home), "--latency", str(args.latency)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    if drafts is not None:
        command += ["--drafts", str(drafts)]
    print(f"eval run: {'offline' if what == 'offline' else f'LLM, N={what}'}...", file=sys.stderr)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"the run {what} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def learn_answers(settings: Settings, limit: int | None, path: Path) -> int:
    """Calibrate in this process and save the answers for the runs; returns the calls without one."""
    kb = RecordingKnowledgeBase(KnowledgeBase.open(settings))
    cases: list[SkillCase] = load_suite(RunConfig(suite="skills", out_dir=path.parent, limit=limit))
    print(f"learning answers for {len(cases)} cases (one pass, 401 replies)...", file=sys.stderr)
    with model_server() as server:
        book = calibrate(kb, settings, server, cases)
    path.write_text(json.dumps(book.drafts, ensure_ascii=False), encoding="utf-8")
    return sum(len(c.skills) for c in cases) - len(book.drafts)


def report(rows: list[dict[str, Any]], latency: float, missing: int) -> tuple[str, list[str]]:
    headers = ["mode", "N", "cases", "outputs", "wall s", "CPU s", "cases/s", "outputs/s", "LLM / fallback"]
    headers.append("pass rate")
    body = [
        [
            "offline" if r["mode"] == "offline" else f"LLM ({latency:g} s/request)",
            r["concurrency"],
            r["cases"],
            r["outputs"],
            r["wall_s"],
            r["cpu_s"],
            r["cases_per_s"],
            r["outputs_per_s"],
            f"{r['llm_outputs']} / {r['fallback_outputs']}" if r["mode"] != "offline" else "",
            r["case_pass_rate"],
        ]
        for r in rows
    ]
    notes = [
        "Each run is a fresh process (cold caches, as `nego eval run`); wall time is run_suite's, results, "
        "summary and report written; CPU s is the process's CPU time (the test server runs in it too). "
        "Outputs are skill calls (a case runs 1-4 skills). LLM / fallback: outputs written by the model vs "
        "the offline answer shown because the model's answer failed the copilot's checks.",
    ]
    if missing:
        notes.append(f"{missing} calls had no learnt answer (answered 401: they fall back).")
    if any(r.get("script_exhausted") for r in rows):
        notes.append("warning: the server ran out of scripted answers in a run: its figures are not valid.")
    return table(headers, body), notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(parser)
    parser.add_argument("--limit", type=int, help="only the first N cases of the skills suite")
    parser.add_argument("--concurrency", default="1,4,8", help="comma list of N for LLM mode (default 1,4,8)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the server takes per chat request")
    parser.add_argument("--part", choices=["all", "offline", "llm"], default="all")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--drafts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("copilot.llm").setLevel(logging.ERROR)  # the calibration's 401s are expected
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nego-bench-") as tmp:
        work = Path(tmp)
        offline_environment(work)
        try:
            settings, index_s = indexed_home(args.home, work)
            if args.child:
                print(json.dumps(child(args, settings, work)))
                return 0
            missing = 0
            if args.part in ("all", "offline"):
                rows.append(in_child("offline", args, settings.home_dir, None))
            if args.part in ("all", "llm"):
                drafts = work / "drafts.json"
                missing = learn_answers(settings, args.limit, drafts)
                for n in args.concurrency.split(","):
                    rows.append(in_child(str(int(n)), args, settings.home_dir, drafts))
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    body, notes = report(rows, args.latency, missing)
    data = {"index_s": index_s, "latency_s": args.latency, "runs": rows}
    emit("Eval throughput (skills suite)", [body, *notes], data, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
