"""The meeting-loop eval suites end to end: roleplay separation on every persona, recap P/R, 0 hedged overwrites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.runner import RunConfig, run_suite
from evals.summary import default_thresholds, gate, load_thresholds


def test_roleplay_and_recap_suites_pass_their_gates(kb: Any, shipped_index: Any, tmp_path: Path) -> None:
    settings = shipped_index[0]
    table = load_thresholds(default_thresholds())
    for suite in ("roleplay", "recap"):
        summary = run_suite(settings, kb, RunConfig(suite=suite, out_dir=tmp_path / suite), progress=False)
        failed = [c for c in gate(summary, table[suite]) if not c.passed]
        assert not failed, failed
        assert summary.errors == 0
    assert (tmp_path / "recap" / "report.html").is_file()
