"""Helpers of the bad-input tables: run the real `nego` executable and judge how it failed.

A failure is "clean" when the process exits with the expected code, prints no
traceback anywhere, and its stderr is the expected number of lines (one by
default), the first starting with `error:` and holding the expected fragment.
Rows that start a process are run a few at a time, once per module, so a
table of forty rows costs seconds rather than a minute.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

NEGO = Path(sys.executable).with_name("nego")
PROCESS_TIMEOUT_S = 120
"""A guard against a hang (a YAML bomb that is expanded, a huge file read line by line), not a speed test."""
PARALLEL = 3


@dataclass(frozen=True)
class Run:
    """One invocation of `nego`: its arguments, extra environment and working directory."""

    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def base_env(home: Path) -> dict[str, str]:
    """The test process's environment without any NEGO_* setting, with NEGO_HOME set to `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(NEGO_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", NO_COLOR="1")
    env["COLUMNS"] = "200"
    return env


def without_root_file_powers() -> list[str]:
    """A command prefix that makes root obey file permissions (drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).

    Empty when not root. Needs util-linux's setpriv (Debian's base system has it): a test that needs
    permissions to bite fails rather than skips without it.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "running as root: setpriv (util-linux) is needed to take file permissions away"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def run_nego(run: Run, home: Path, prefix: Sequence[str] = ()) -> Outcome:
    env = base_env(home)
    env.update(run.env)
    for name in [k for k, v in env.items() if v == ""]:
        del env[name]  # an empty value in a row means "unset"
    proc = subprocess.run(
        [*prefix, str(NEGO), *run.args],
        env=env,
        cwd=run.cwd,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@contextlib.contextmanager
def _argv(args: Sequence[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = ["nego", *args]
    try:
        yield
    finally:
        sys.argv = saved


def run_main(args: Sequence[str]) -> Outcome:
    """`nego ARGS` in this process, through the real entry point `nego.cli.main` (its error handling included).

    Cheaper than a process per row; rows whose settings come from the environment use `run_nego` instead.
    """
    from nego.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with _argv(args), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    return Outcome(code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())


def run_all(runs: Mapping[str, Run], home: Path) -> dict[str, Outcome]:
    """Every run, a few at once (each is a separate process; the machine has two cores)."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {key: pool.submit(run_nego, run, home) for key, run in runs.items()}
        return {key: future.result() for key, future in futures.items()}


def assert_clean_failure(
    outcome: Outcome, fragments: str | Sequence[str], *, codes: Sequence[int] = (2,), lines: int | None = 1
) -> None:
    """Exit code in `codes`, no traceback, stderr of `lines` lines starting with `error:` and naming the problem."""
    wanted = [fragments] if isinstance(fragments, str) else list(fragments)
    shown = f"exit {outcome.code}\nstdout: {outcome.stdout[-2000:]}\nstderr: {outcome.stderr[-2000:]}"
    assert outcome.code in codes, shown
    assert "Traceback" not in outcome.stderr + outcome.stdout, shown
    assert "╭" not in outcome.stderr, shown  # typer's boxed usage errors are several lines
    err_lines = outcome.stderr.strip().splitlines()
    assert err_lines and err_lines[0].startswith("error: "), shown
    if lines is not None:
        assert len(err_lines) == lines, shown
    for fragment in wanted:
        assert fragment in outcome.stderr, f"{fragment!r} not in stderr\n{shown}"


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes: to prove a failed operation wrote nothing."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
