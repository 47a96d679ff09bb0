"""UI cold start: `nego ui` from process start to the first served page, then the first chat reply.

    python bench/ui_startup.py                   # index into a temp home, then 3 runs
    python bench/ui_startup.py --home ~/.nego    # reuse an indexed home (copied: the app writes history)
    python bench/ui_startup.py --runs 1

Each run spawns `nego ui --port P` (127.0.0.1, a free port, its own process group, NEGO_HOME a private
copy of the indexed home, GRADIO_ANALYTICS_ENABLED=False, HF_HUB_OFFLINE=1) and measures:

- ready: process start -> the first HTTP 200 of "/" (polled every 50 ms);
- client: gradio_client.Client connecting (it reads the app's config and API info);
- CPU: the app process's CPU time until ready and during the reply (what the wall time would be
  with a core to itself: this machine is shared, so wall times depend on its load);
- first piece / reply: one chat turn through the "/chat" endpoint (the API the Chat tab's textbox
  uses), from submit to the first update whose reply text is not empty, and to the complete reply.

The app is then stopped with SIGINT (it removes its temp files) and the process group killed if it
lingers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    OFFLINE_ENV,
    BenchError,
    add_common_args,
    copy_home,
    emit,
    indexed_home,
    offline_environment,
    table,
)
from copilot.settings import Settings

TARGET_READY_S = 8.0
QUESTION = "沃尔玛芒果溯源从几天缩短到几秒？"
DEAL_FIELDS: dict[str, Any] = {
    "customer": "",
    "industry": "",
    "scenario": "traceability",
    "region": "cn",
    "language": "auto",
    "audience": "",
    "pains": "",
    "goals": "",
    "systems": "",
    "budget": "",
    "timeline": "",
    "stage": "discovery",
}
"""The deal panel's inputs of the /chat endpoint (ui/chat.py; every one must be given)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reply_text(update: Any) -> str:
    """The last assistant message's text in a /chat update (Gradio 6 sends content as blocks)."""
    messages = update[0] if isinstance(update, (list, tuple)) and update else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return ""
    last = messages[-1]
    if last.get("role") != "assistant":
        return ""
    content = last.get("content")
    text = content if isinstance(content, str) else ""
    if isinstance(content, list):
        text = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return "" if text.strip() in ("", "…") else text


def wait_ready(process: subprocess.Popen[str], url: str, deadline_s: float) -> float:
    """Seconds until GET `url` answers 200 (the caller's clock started at spawn)."""
    import httpx

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"`nego ui` exited with code {process.returncode} before serving")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise BenchError(f"`nego ui` did not serve {url} within {deadline_s:.0f} s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process `pid` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_reply(url: str) -> dict[str, float]:
    from gradio_client import Client

    started = time.monotonic()
    client = Client(url, verbose=False, download_files=False)
    connected = time.monotonic()
    job = client.submit(message=QUESTION, conversation_id=None, api_name="/chat", **DEAL_FIELDS)
    first: float | None = None
    for update in job:
        if first is None and reply_text(update):
            first = time.monotonic()
    final = job.result()
    done = time.monotonic()
    if not reply_text(final) and not (isinstance(final, (list, tuple)) and final and final[0]):
        raise BenchError("the first chat turn returned no reply")
    return {
        "client_s": connected - started,
        "first_piece_s": (first or done) - connected,
        "reply_s": done - connected,
    }


def _default_sigint() -> None:
    """A shell's background job ignores SIGINT, and its children inherit that: give Ctrl-C back to the app."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGINT first (the app cleans its temp files up), then kill the process group if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # any child left in the group


def one_run(settings: Settings, work: Path, n: int, deadline_s: float) -> dict[str, float]:
    home = copy_home(settings, work / f"home-{n}")
    scratch = work / f"tmp-{n}"
    scratch.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(OFFLINE_ENV, NEGO_HOME=str(home.home_dir), TMPDIR=str(scratch))
    nego = Path(sys.executable).with_name("nego")
    log = (work / f"ui-{n}.log").open("w", encoding="utf-8")
    started = time.monotonic()
    process = subprocess.Popen(
        [str(nego), "ui", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        ready = wait_ready(process, url, deadline_s) - started
        ready_cpu = cpu_seconds(process.pid)
        reply = first_reply(url)
        reply_cpu = cpu_seconds(process.pid) - ready_cpu
    except BenchError as exc:
        log.flush()
        tail = (work / f"ui-{n}.log").read_text(encoding="utf-8")[-800:]
        raise BenchError(f"{exc}\n{tail}") from None
    finally:
        stop(process)
        log.close()
    return {"ready_s": ready, "ready_cpu_s": ready_cpu, **reply, "reply_cpu_s": reply_cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(parser)
    parser.add_argument("--runs", type=int, default=3, help="cold starts to measure (default 3)")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds to wait for the app to serve")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nego-bench-") as tmp:
        work = Path(tmp)
        offline_environment(work)
        try:
            settings, index_s = indexed_home(args.home, work)
            runs = [one_run(settings, work, n, args.deadline) for n in range(1, args.runs + 1)]
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    keys = ["ready_s", "ready_cpu_s", "client_s", "first_piece_s", "reply_s", "reply_cpu_s"]
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    rows: list[list[Any]] = [[f"run {n}", *(r[k] for k in keys)] for n, r in enumerate(runs, 1)]
    rows.append(["**median**", *(median[k] for k in keys)])
    headers = [
        "",
        "ready: start -> / 200 (s)",
        "app CPU until ready (s)",
        "client connect (s)",
        "first piece (s)",
        "complete reply (s)",
        "app CPU for the reply (s)",
    ]
    verdict = (
        f"- UI ready median {median['ready_s']:.2f} s: target < {TARGET_READY_S:.0f} s "
        f"{'met' if median['ready_s'] < TARGET_READY_S else 'MISSED'}"
    )
    note = f"First chat turn: {QUESTION!r} (ask, offline), the app's first request after start."
    data = {"runs": [{k: round(v, 3) for k, v in r.items()} for r in runs], "median": median, "index_s": index_s}
    emit("UI cold start (`nego ui`)", [table(headers, rows), note, verdict], data, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
