"""Chat load benchmark: N concurrent gradio_client sessions against the real app, offline.

    python bench/load.py                          # 20 sessions, 60 s, a fresh home indexed first (~20 s)
    python bench/load.py --home ~/.nego-bench     # an already indexed NEGO_HOME: no indexing
    python bench/load.py --sessions 2 --duration 5 --json load.json

The app runs as `nego ui` in its own process group on 127.0.0.1 (offline, no
analytics, HF_HUB_OFFLINE=1), with NEGO_HOME in a temporary directory unless
--home is given; the corpus is indexed by `nego index` beforehand so the app's
peak memory is the serving peak, not the indexing one. Each session is its own
gradio_client.Client in its own thread, chatting like a user in its own
conversation: it sends messages drawn round-robin from a fixed bilingual list
(every skill the router knows, in Chinese and English) with its deal panel,
waits for the final reply, and sends the next. A request is an error when it
raises, times out, or the reply is empty or carries an error marker. Latency is
from submit to the final reply (queue wait included). Peak memory is VmHWM from
/proc: the app process plus any children it spawns, and this driver.

--think S adds a pause between a session's turns (default 0: every session
sends its next message as soon as the reply is complete, the worst case).
--workers N runs N app processes over the same home, each session staying on one
(as behind a proxy that is sticky by client, docs/deploy.md); --profile samples the first.
--profile FILE samples the app with py-spy (`pip install py-spy`) during the
load and prints where its Python threads spend their time.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from copilot.wording import Wording  # noqa: E402  (after the path: the bench runs from a checkout)

MESSAGE_SKILLS: dict[str, str] = {
    "沃尔玛芒果溯源从几天缩短到几秒？": "ask",
    "What did TradeLens fail at, and what should I not claim about it?": "ask",
    "客户说：为什么不直接用一个共享数据库？": "objection",
    "Explain PBFT to a CFO in plain words": "explain",
    "帮我列一下这个项目的主要风险": "risks",
    "The buyer says blockchain is too slow for our volumes. How do I respond?": "objection",
    "给这个项目做一个分阶段的实施计划": "plan",
    "What could go wrong with this project?": "risks",
    "用大白话给财务总监解释一下零知识证明": "explain",
    "Draft a milestone plan with KPIs for this deal": "plan",
    "这个场景真的需要区块链吗？": "fit",
    "Do we even need a blockchain here, or is a shared database enough?": "fit",
    "帮我准备下周和客户开会的简报": "card",
    "Brief me for tomorrow's meeting with their CFO": "card",
    "TradeLens 为什么关停了？": "ask",
    "How did Marco Polo end, and why?": "ask",
}
"""What reps ask, zh and en, with the skill the chat routes each to (every route but the new ones)."""
MESSAGES: list[str] = list(MESSAGE_SKILLS)

DEALS: list[dict[str, str]] = [
    {
        "customer": "鲜果供应链集团",
        "industry": "农产品流通",
        "scenario": "traceability",
        "region": "cn",
        "audience": "质量总监\nCEO",
        "pains": "出了质量问题要3天才能追到果园批次\n供应商各用各的系统，记录对不上",
        "goals": "把追溯时间缩短到2小时以内",
        "systems": "SAP ERP",
    },
    {
        "customer": "Northwind Shipping",
        "industry": "Logistics",
        "scenario": "shipping_logistics",
        "region": "sg",
        "audience": "CFO\nHead of Operations",
        "pains": "Paper bills of lading take 5 days to reach the bank",
        "goals": "Cut document handling time by 50%",
        "systems": "Oracle TMS",
    },
    {
        "customer": "华东汽配集团",
        "industry": "制造业",
        "scenario": "supply_chain_finance",
        "region": "cn",
        "audience": "CFO\n资金部总经理",
        "pains": "二级供应商融资难，账期长达90天\n银行无法核实贸易背景",
        "goals": "供应商融资审批时间从7天缩短到1天",
        "systems": "用友ERP",
    },
    {
        "customer": "EuroHealth Network",
        "industry": "Healthcare",
        "scenario": "healthcare_data",
        "region": "eu",
        "audience": "CIO\nData protection officer",
        "pains": "Hospitals cannot prove who accessed patient records",
        "goals": "Consent checks in under 1 minute",
        "systems": "Epic EHR",
    },
]
"""Deal panels the sessions use (one per session, round-robin): the chat endpoint takes every field every turn."""

ERROR_MARKERS = tuple(
    Wording("ui", lang)(key) for lang in ("zh", "en") for key in ("chat.status_partial", "chat.status_interrupted")
)
"""What the chat tab appends to a reply that stopped (ui/chat_turn.py, in the conversation's language: both are
looked for). Every other failure (a failed reply, a deal problem, an empty message) is a note starting with ⚠."""


def deal_fields(deal: dict[str, str]) -> dict[str, str]:
    """The chat endpoint's deal parameters (all of them are required by the API)."""
    base = dict.fromkeys(
        ("customer", "industry", "audience", "pains", "goals", "systems", "budget", "timeline", "constraints"), ""
    )
    return {**base, "language": "auto", "stage": "discovery", **deal}


def text_of(message: dict[str, Any]) -> str:
    """A chatbot message's text: Gradio 6 sends content as a list of blocks."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content or [] if isinstance(block, dict))


def update_value(output: Any) -> Any:
    """The value of a component update ({'__type__': 'update', 'value': ...}) or the output itself."""
    return output.get("value") if isinstance(output, dict) and output.get("__type__") == "update" else output


def read_reply(outputs: Any, sent: str) -> tuple[str | None, str, str | None]:
    """(problem or None, reply text, conversation id) from the chat endpoint's final outputs.

    The outputs are (chatbot, textbox, conversation dropdown, notices, reply ids).
    The last user message must be the one sent and be followed by a non-empty
    reply without an error marker.
    """
    if not isinstance(outputs, (list, tuple)) or len(outputs) < 4:
        return f"unexpected outputs: {type(outputs).__name__}", "", None
    chatbot, _, dropdown, notices = outputs[:4]
    conversation = update_value(dropdown)
    conversation = conversation if isinstance(conversation, str) and conversation else None
    notes = notices if isinstance(notices, str) else ""
    messages = [m for m in chatbot or [] if isinstance(m, dict)]
    users = [n for n, m in enumerate(messages) if m.get("role") == "user"]
    if not users:
        return "no user message in the chat", "", conversation
    if text_of(messages[users[-1]]).strip() not in (sent.strip(), html.escape(sent.strip(), quote=False)):
        return "the last user message is not the one sent", "", conversation
    after = messages[users[-1] + 1 :]
    reply = text_of(after[0]) if after and after[0].get("role") == "assistant" else ""
    if not reply.strip() or reply.strip() == "…":
        return "empty reply", reply, conversation
    for marker in ERROR_MARKERS:
        if marker in reply or marker in notes:
            return f"error marker: {marker}", reply, conversation
    if any(line.lstrip().startswith("⚠") for line in notes.splitlines()):
        return "error note: " + notes.strip().splitlines()[0][:80], reply, conversation
    if conversation is None:
        return "no conversation id", reply, conversation
    return None, reply, conversation


# -- the app process ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(home: Path) -> dict[str, str]:
    """This environment without the caller's NEGO_* settings, offline, no analytics, no hub lookups."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(
        NEGO_HOME=str(home),
        NEGO_PROVIDER="offline",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        PYTHONUNBUFFERED="1",
    )
    return env


def nego_command() -> list[str]:
    script = Path(sys.executable).with_name("nego")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nego"]


def index_home(home: Path, log: Path) -> float:
    """Index the shipped corpus into `home` with `nego index`; returns the seconds it took."""
    started = time.perf_counter()
    with log.open("ab") as out:
        done = subprocess.run([*nego_command(), "index"], env=app_env(home), stdout=out, stderr=out, check=False)
    if done.returncode != 0:
        raise BenchError(f"`nego index` failed (exit {done.returncode}); its last lines:\n{tail(log)}")
    return time.perf_counter() - started


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class BenchError(RuntimeError):
    """The benchmark cannot run (app did not start, indexing failed); the message says why."""


@contextlib.contextmanager
def running_app(home: Path, log: Path, ready_timeout: float) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`nego ui` on a free port of 127.0.0.1 in its own process group; yields (url, process) once it answers."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*nego_command(), "ui", "--host", "127.0.0.1", "--port", str(port)],
            env=app_env(home),
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise BenchError(f"the app exited with {process.returncode} before answering:\n{tail(log)}")
            try:
                if httpx.get(url + "config", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"the app did not answer on {url} within {ready_timeout:.0f} s:\n{tail(log)}")
            time.sleep(0.25)
        yield url, process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the app's process group, SIGKILL it if it has not gone after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- memory and CPU from /proc --------------------------------------------------------------------


def proc_status(pid: int, key: str) -> int:
    """A `kB` field of /proc/PID/status in bytes (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """The process and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat_fields(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def settle(pid: int, quiet_s: float = 3.0, limit_s: float = 300.0) -> float:
    """Wait until the app has used under 5 % of a core for `quiet_s` (its warm-up thread has finished);
    returns the seconds waited (at most `limit_s`)."""
    started = time.monotonic()
    last, quiet_since = cpu_seconds(descendants(pid)), time.monotonic()
    while time.monotonic() - started < limit_s:
        time.sleep(0.5)
        now = cpu_seconds(descendants(pid))
        if now - last > 0.025:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
        last = now
    return time.monotonic() - started


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (children that exited and were waited for included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        except (OSError, ValueError, IndexError):
            continue
    return total / ticks


def driver_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class MemoryWatch:
    """Samples the app's process tree: the largest VmHWM seen per process (children may come and go)."""

    pid: int
    interval: float = 0.5
    peaks: dict[int, int] = field(default_factory=dict)
    peak_rss_total: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        rss_total = 0
        for pid in descendants(self.pid):
            self.peaks[pid] = max(self.peaks.get(pid, 0), proc_status(pid, "VmHWM"))
            rss_total += proc_status(pid, "VmRSS")
        self.peak_rss_total = max(self.peak_rss_total, rss_total)

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        self.sample()
        self._thread = threading.Thread(target=run, name="memory-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()

    @property
    def hwm_total(self) -> int:
        return sum(self.peaks.values())


# -- the sessions ---------------------------------------------------------------------------------


@dataclass
class Turn:
    session: int
    number: int
    """1 for the conversation's first turn: the app re-renders the whole conversation every turn."""
    skill: str
    lang: str
    latency_s: float
    error: str | None


@dataclass
class Session:
    """One user: a client, a deal panel, a conversation; records a Turn per message sent."""

    number: int
    url: str
    timeout: float
    think_s: float
    turns: list[Turn] = field(default_factory=list)
    setup_error: str | None = None

    def run(self, start: threading.Barrier, stop_at: list[float], max_turns: int | None = None) -> None:
        """Connect, wait for every session at `start`, then chat until `stop_at[0]` (or `max_turns`)."""
        from gradio_client import Client

        client: Client | None = None
        try:
            client = Client(self.url, verbose=False, download_files=False, analytics_enabled=False)
        except Exception as exc:  # counted as this session's failure; the others go on
            self.setup_error = f"{type(exc).__name__}: {exc}"
        try:
            start.wait(timeout=120)
        except threading.BrokenBarrierError:
            return  # the run was called off (another session could not connect in time)
        if client is None:
            return
        fields = deal_fields(DEALS[self.number % len(DEALS)])
        conversation: str | None = None
        n = self.number
        while time.monotonic() < stop_at[0] and (max_turns is None or len(self.turns) < max_turns):
            message = MESSAGES[n % len(MESSAGES)]
            n += 1
            started = time.perf_counter()
            error: str | None
            try:
                job = client.submit(message=message, conversation_id=conversation, api_name="/chat", **fields)
                try:
                    outputs = job.result(timeout=max(0.0, self.timeout - (time.perf_counter() - started)))
                except TimeoutError:
                    job.cancel()
                    raise
                error, _, got = read_reply(outputs, message)
                conversation = conversation or got
            except TimeoutError:
                error = f"timeout after {self.timeout:g} s"
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc)[:120]}"
            latency = time.perf_counter() - started
            if error is None and latency > self.timeout:
                error = f"timeout after {self.timeout:g} s"
            lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in message) else "en"
            turn = Turn(self.number, len(self.turns) + 1, MESSAGE_SKILLS.get(message, "?"), lang, latency, error)
            self.turns.append(turn)
            if self.think_s:
                time.sleep(self.think_s)  # a user reading the reply before the next question
        with contextlib.suppress(Exception):
            client.close()


def warm_up(url: str, timeout: float) -> float:
    """One turn before the clock starts (jieba's dictionary, first imports); returns its latency."""
    session = Session(0, url, timeout, 0.0)
    session.run(threading.Barrier(1), [math.inf], max_turns=1)
    if session.setup_error:
        raise BenchError(f"warm-up: cannot connect: {session.setup_error}")
    if not session.turns or session.turns[0].error:
        raise BenchError(f"warm-up turn failed: {session.turns[0].error if session.turns else 'no turn'}")
    return session.turns[0].latency_s


# -- figures --------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_figures(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_s": round(percentile(latencies, 50), 3),
        "p95_s": round(percentile(latencies, 95), 3),
        "p99_s": round(percentile(latencies, 99), 3),
        "max_s": round(max(latencies, default=0.0), 3),
    }


def machine_facts() -> dict[str, Any]:
    import gradio_client

    try:
        import gradio

        gradio_version = gradio.__version__
    except ImportError:
        gradio_version = "?"
    return {
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "gradio": gradio_version,
        "gradio_client": gradio_client.__version__,
        "memory_total_mb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20),
    }


def summarise(
    sessions: list[Session], wall_s: float, args: argparse.Namespace, extra: dict[str, Any]
) -> dict[str, Any]:
    turns = [t for s in sessions for t in s.turns]
    ok = [t.latency_s for t in turns if t.error is None]
    errors = Counter(t.error for t in turns if t.error)
    errors.update(f"session setup: {s.setup_error}" for s in sessions if s.setup_error)
    per_skill: dict[str, Any] = {}
    for skill in sorted({t.skill for t in turns}):
        mine = [t for t in turns if t.skill == skill]
        per_skill[skill] = {
            "requests": len(mine),
            "errors": sum(1 for t in mine if t.error),
            **latency_figures([t.latency_s for t in mine if t.error is None]),
        }
    return {
        "sessions": args.sessions,
        "duration_s": args.duration,
        "think_s": args.think,
        "timeout_s": args.timeout,
        "wall_s": round(wall_s, 2),
        "requests": len(turns),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "requests_per_s": round(len(turns) / wall_s, 2) if wall_s > 0 else 0.0,
        "latency": latency_figures(ok),
        "per_skill": per_skill,
        "per_language": {
            lang: {"requests": n, **latency_figures([t.latency_s for t in turns if t.lang == lang and not t.error])}
            for lang, n in sorted(Counter(t.lang for t in turns).items())
        },
        "by_conversation_length": {
            label: {"requests": len(mine), **latency_figures([t.latency_s for t in mine if not t.error])}
            for label, low, high in (("turns 1-5", 1, 5), ("turns 6-15", 6, 15), ("turns 16+", 16, 10**9))
            if (mine := [t for t in turns if low <= t.number <= high])
        },
        "turns": [asdict(t) | {"latency_s": round(t.latency_s, 3)} for t in turns],
        **extra,
    }


def mb(value: int) -> str:
    return f"{value / 2**20:,.0f} MB"


def markdown(figures: dict[str, Any]) -> str:
    lat = figures["latency"]
    mem = figures["memory"]
    m = figures["machine"]
    lines = [
        f"Chat load: {figures['sessions']} sessions × {figures['duration_s']:g} s, offline, "
        f"think time {figures['think_s']:g} s, timeout {figures['timeout_s']:g} s",
        "",
        "| sessions | requests | errors | requests/s | p50 | p95 | p99 | max | app peak memory | driver peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {figures['sessions']} | {figures['requests']} | {figures['errors']} | {figures['requests_per_s']:.2f} "
        f"| {lat['p50_s']:.2f} s | {lat['p95_s']:.2f} s | {lat['p99_s']:.2f} s | {lat['max_s']:.2f} s "
        f"| {mb(mem['app_peak_bytes'])} | {mb(mem['driver_peak_bytes'])} |",
        "",
        "| skill | requests | errors | p50 | p95 | max |",
        "|---|---|---|---|---|---|",
    ]
    for skill, f in figures["per_skill"].items():
        times = f"{f['p50_s']:.2f} s | {f['p95_s']:.2f} s | {f['max_s']:.2f} s"
        lines.append(f"| {skill} | {f['requests']} | {f['errors']} | {times} |")
    lines += ["", "| conversation length | requests | p50 | p95 | max |", "|---|---|---|---|---|"]
    for label, f in figures["by_conversation_length"].items():
        lines.append(f"| {label} | {f['requests']} | {f['p50_s']:.2f} s | {f['p95_s']:.2f} s | {f['max_s']:.2f} s |")
    lines += [
        "",
        f"Machine: {m['cores']} cores, {m['memory_total_mb']:,} MB, Python {m['python']}, gradio {m['gradio']}, "
        f"gradio_client {m['gradio_client']}, {m['platform']}",
        f"Load average 1 min: {figures['loadavg_before']:.2f} before, {figures['loadavg_after']:.2f} after "
        f"(other work on the machine counts here)",
        f"App: {figures.get('workers', 1)} worker(s), "
        f"idle {mb(mem['app_idle_rss_bytes'])} RSS after start, peak {mb(mem['app_peak_bytes'])} VmHWM "
        f"over {mem['app_processes']} process(es); CPU {figures['app_cpu_s']:.1f} s in {figures['wall_s']:.1f} s "
        f"({figures['app_cpu_s'] / figures['wall_s'] if figures['wall_s'] else 0:.2f} cores); "
        f"cold first turn {figures['warm_up_s']:.2f} s",
        f"Driver: CPU {figures['driver_cpu_s']:.1f} s (the sessions' clients share the machine with the app)",
    ]
    if figures["index_s"] is not None:
        lines.append(f"Indexing the shipped corpus first: {figures['index_s']:.1f} s")
    if figures.get("profile"):
        *rows, samples = figures["profile"]
        lines += [
            "",
            f"App profile (py-spy, threads holding the GIL, {samples['self']} samples): named parts of a turn,"
            " then the top functions by self time",
            "",
            "| function | self | inclusive |",
            "|---|---|---|",
        ]
        lines += [f"| `{r['function']}` | {r['self']:.1%} | {r['inclusive']:.1%} |" for r in rows]
    if figures["errors"]:
        lines += ["", "Errors:"] + [f"- {n} × {kind}" for kind, n in figures["error_kinds"].items()]
    return "\n".join(lines)


# -- profile (py-spy) ----------------------------------------------------------------------------


def start_profiler(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy sampling the app's Python threads that hold the GIL (where its CPU goes) for `seconds`."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise BenchError("--profile needs py-spy: `.venv/bin/pip install py-spy`")
    command = [spy, "record", "-p", str(pid), "-o", str(out), "-f", "raw", "-F", "--gil", "--nonblocking"]
    return subprocess.Popen(
        [*command, "-r", "100", "-d", str(math.ceil(seconds))], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


PROFILE_GROUPS: dict[str, str] = {
    "copilot skills (core)": "copilot/chat.py:run_turn",
    "chat history reads (SQLite)": "copilot/history.py:History.get",
    "rendering stored messages": "ui/chat_turn.py:render_messages",
    "gradio: whole event (process_api)": "gradio/blocks.py:Blocks.process_api",
    "gradio: postprocess outputs": "gradio/blocks.py:Blocks.postprocess_data",
    "gradio: rebuild components for updates / gr.skip()": "gradio/component_meta.py:updateable.<locals>.wrapper",
    "gradio: Chatbot.postprocess": "components/chatbot.py:Chatbot.postprocess",
    "gradio: file traversal of outputs": "gradio/processing_utils.py:async_move_files_to_cache",
    "SSE writes": "http/httptools_impl.py:RequestResponseCycle.send",
    "thread hand-offs per generator step": "threading.py:Condition.notify",
}
"""Named frames whose inclusive share says where a chat turn's time goes (see the README's load figures)."""


def profile_summary(collapsed: Path, top: int = 15) -> list[dict[str, Any]]:
    """Functions by share of samples, from py-spy's collapsed stacks: inclusive (on the stack) and self (on top)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_short_frame(f) for f in stack.split(";")]
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return []
    ranked = sorted(inclusive, key=lambda f: (-own[f], -inclusive[f]))[:top]
    groups = [
        {
            "function": f"{label} ({frame})",
            "self": round(own[frame] / total, 3),
            "inclusive": round(inclusive[frame] / total, 3),
        }
        for label, frame in PROFILE_GROUPS.items()
    ]
    rows = [
        {"function": f, "self": round(own[f] / total, 3), "inclusive": round(inclusive[f] / total, 3)} for f in ranked
    ]
    return [*groups, *rows, {"function": "(samples)", "self": total, "inclusive": total}]


def _short_frame(frame: str) -> str:
    """'func (path/to/file.py:12)' -> 'file.py:func', with the package folder for site-packages files."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif str(ROOT) in path:
        parts = Path(path).relative_to(ROOT).parts
    else:
        parts = parts[-2:]
    return f"{'/'.join(parts)}:{name}"


# -- main -----------------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    log = workdir / "app.log"
    index_s: float | None = None
    if args.home:
        home = Path(args.home).expanduser().resolve()
        if not (home / "index").exists():
            raise BenchError(f"{home}: no index there (run `NEGO_HOME={home} nego index` first, or leave out --home)")
    else:
        home = workdir / "home"
        print("indexing the shipped corpus into a temporary home …", file=sys.stderr, flush=True)
        index_s = index_home(home, log)
    loadavg_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        apps = [stack.enter_context(running_app(home, log, args.ready_timeout)) for _ in range(args.workers)]
        urls, pids = [url for url, _ in apps], [process.pid for _, process in apps]

        def tree() -> list[int]:
            return [pid for root in pids for pid in descendants(root)]

        idle_rss = sum(proc_status(pid, "VmRSS") for pid in tree())
        warm_s = max(warm_up(url, args.timeout) for url in urls)  # every worker's first turn before the clock
        settled_s = sum(settle(pid) for pid in pids)  # the warm-up threads (rehearsal) done before the clock starts
        watches = [MemoryWatch(pid) for pid in pids]
        for watch in watches:
            watch.start()
        cpu_before = cpu_seconds(tree())
        driver_before = driver_cpu_seconds()
        print(
            f"app ready on {', '.join(urls)} (pids {pids}); {args.sessions} sessions for {args.duration:g} s …",
            file=sys.stderr,
            flush=True,
        )
        # A session stays on one worker, as behind a proxy that is sticky by client (docs/deploy.md).
        sessions = [Session(n, urls[n % len(urls)], args.timeout, args.think) for n in range(args.sessions)]
        start = threading.Barrier(args.sessions + 1)
        stop_at = [math.inf]
        threads = [threading.Thread(target=s.run, args=(start, stop_at), name=f"session-{s.number}") for s in sessions]
        for thread in threads:
            thread.daemon = True  # Ctrl-C must not wait for 20 blocked clients
            thread.start()
        try:
            start.wait(timeout=args.ready_timeout)
        except threading.BrokenBarrierError as exc:
            raise BenchError(f"the sessions did not all connect within {args.ready_timeout:g} s") from exc
        began = time.monotonic()
        stop_at[0] = began + args.duration
        profiler = start_profiler(pids[0], args.profile, args.duration) if args.profile else None
        try:
            for thread in threads:
                thread.join()
            wall = time.monotonic() - began
            cpu = cpu_seconds(tree()) - cpu_before
            driver_cpu = driver_cpu_seconds() - driver_before
            for watch in watches:
                watch.stop()
            processes = sum(len(watch.peaks) for watch in watches)
            if profiler is not None:
                _, spy_err = profiler.communicate(timeout=60)
                if profiler.returncode != 0 or not args.profile.exists():
                    raise BenchError(f"py-spy failed: {spy_err.decode(errors='replace').strip()[-300:]}")
        finally:
            if profiler is not None and profiler.poll() is None:
                profiler.kill()
                profiler.wait()
    extra = {
        "machine": machine_facts(),
        "loadavg_before": loadavg_before,
        "loadavg_after": os.getloadavg()[0],
        "index_s": round(index_s, 1) if index_s is not None else None,
        "warm_up_s": round(warm_s, 3),
        "settled_after_s": round(settled_s, 1),
        "workers": args.workers,
        "app_pid": pids[0],
        "app_pids": pids,
        "app_cpu_s": round(cpu, 1),
        "driver_cpu_s": round(driver_cpu, 1),
        "profile": profile_summary(args.profile) if args.profile else None,
        "memory": {
            "app_peak_bytes": sum(watch.hwm_total for watch in watches),
            "app_peak_rss_sum_bytes": sum(watch.peak_rss_total for watch in watches),
            "app_idle_rss_bytes": idle_rss,
            "app_processes": processes,
            "driver_peak_bytes": proc_status(os.getpid(), "VmHWM"),
        },
    }
    return summarise(sessions, wall, args, extra)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    parser.add_argument("--think", type=float, default=0.0, help="seconds a user waits between turns (default 0)")
    parser.add_argument("--home", help="an already indexed NEGO_HOME (skips indexing; its history grows)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--profile", type=Path, help="sample the app with py-spy during the load; collapsed stacks go to this file"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="app processes over the same home; each session stays on one"
    )
    parser.add_argument("--ready-timeout", type=float, default=180.0, help="seconds to wait for the app to answer")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.sessions < 1 or args.duration <= 0 or args.timeout <= 0 or args.think < 0:
        parser.error("--workers and --sessions must be ≥ 1, --duration and --timeout > 0, --think ≥ 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    workdir = Path(tempfile.mkdtemp(prefix="nego-load-"))
    try:
        figures = run(args, workdir)
    except BenchError as exc:
        print(f"load bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        shutil.rmtree(workdir, ignore_errors=True)
        print("load bench: interrupted; the app was stopped", file=sys.stderr, flush=True)
        # Exit now: gradio_client's own worker threads (not ours, not daemons) may still be connecting to the
        # stopped app, and the interpreter would wait for them at exit.
        os._exit(130)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(markdown(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
