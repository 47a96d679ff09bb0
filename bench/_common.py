"""What the copilot benchmarks share: a clean offline environment, an indexed home, figures and output.

Every benchmark runs offline with NEGO_HOME in a temp dir (NEGO_* variables from the caller's shell are
dropped so they cannot switch a run to a model). The index of the shipped corpus is built into the temp
home (~20-35 s), or an existing indexed home is reused with --home PATH (read by the in-process benches;
the UI bench copies it, because the app writes its conversation history there).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from copilot.settings import Settings  # noqa: E402

OFFLINE_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


class BenchError(RuntimeError):
    """A benchmark cannot run (e.g. the home given has no index); the message is one line for the user."""


# -- environment ----------------------------------------------------------------------------------
def offline_environment(tmp: Path) -> None:
    """Drop the caller's NEGO_* settings, point NEGO_HOME at `tmp`, switch off telemetry lookups."""
    for name in [n for n in os.environ if n.startswith("NEGO_")]:
        del os.environ[name]
    os.environ["NEGO_HOME"] = str(tmp / "nego-home")
    os.environ.update(OFFLINE_ENV)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", type=Path, help="an already indexed NEGO_HOME (skips the ~20 s index build)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")


def indexed_home(home: Path | None, tmp: Path) -> tuple[Settings, float | None]:
    """Settings for an indexed home, and the seconds spent indexing (None when `home` was reused)."""
    from copilot.index.indexer import index_corpus
    from copilot.index.store import ChunkStore

    if home is not None:
        settings = Settings(home=home.resolve())
        if ChunkStore.open(settings).count() == 0:
            raise BenchError(f"{home}: no index here; run `NEGO_HOME={home} nego index` or leave out --home")
        return settings, None
    settings = Settings(home=tmp / "home")
    print("indexing the shipped corpus into a temp home (use --home PATH to reuse one)...", file=sys.stderr)
    started = time.perf_counter()
    report = index_corpus(settings, ChunkStore.open(settings))
    if report.problems:
        raise BenchError(f"indexing reported problems: {report.problems[0]}")
    return settings, time.perf_counter() - started


def copy_home(settings: Settings, target: Path) -> Settings:
    """A private copy of an indexed home (its index and state), for runs that write into the home."""
    shutil.copytree(settings.home_dir, target)
    return settings.model_copy(update={"home": target})


def openai_test_server() -> ModuleType:
    """tests/openai_server.py (the real OpenAI-compatible test server), imported from the tests folder."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module("openai_server")


# -- figures --------------------------------------------------------------------------------------
def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile, interpolated between the two nearest ranks (numpy's default rule).

    Sound for small samples too (12 briefs a round), where a floored rank would fall below the median.
    """
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    """n, p50, p95 and max of durations given in seconds, in milliseconds."""
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(pct(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


def peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


# -- output ---------------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    m = machine()
    return (
        f"Machine: {m['cores']} cores, Python {m['python']}, {m['platform']}; load average (1 min) "
        f"{m['load_average_1m']} at the end; peak memory {peak_mb()} MB."
    )


def emit(title: str, sections: Sequence[str], data: dict[str, Any], json_path: Path | None) -> None:
    """Print the Markdown report; write `data` (plus the machine) as JSON when asked."""
    print(f"## {title}\n")
    for section in sections:
        print(section + "\n")
    print(machine_line())
    if json_path is not None:
        payload = {"machine": machine(), "peak_mb": peak_mb(), **data}
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nJSON written to {json_path}")
