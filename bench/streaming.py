"""What streaming changes for the user in LLM mode: time to the first token shown vs to the whole answer.

    python bench/streaming.py --home H [--limit 4] [--piece-ms 20]

The first --limit cases of each skill in evals/datasets/skills.yaml are first calibrated (bench/_llm.py: the test server
learns a draft that passes the checks), then run through `Copilot.stream` while the server streams that
draft over SSE a few characters at a time, `--piece-ms` apart (a model writing ~50 pieces a second).
Per skill: the time from the call to the first "text" event (what the user sees first), to the final
checked answer (what the user waited for before streaming, since the whole answer was shown at once),
their ratio, and how many streamed drafts the checks accepted (a rejected one is replaced, with a notice).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchError, add_common_args, emit, indexed_home, offline_environment, summary_ms, table
from bench._llm import DraftBook, llm_settings, model_server, skill_input
from copilot.core import Copilot
from copilot.knowledge import KnowledgeBase
from copilot.llm.runner import is_correction
from evals.cases import default_dataset, load_skill_cases
from evals.execute import Engine
from evals.recording import RecordingKnowledgeBase


def _call(copilot: Copilot, case: Any, skill: str) -> Any:
    text = skill_input(case, skill)
    deal = case.deal
    return {
        "explain": lambda: copilot.explain(deal, text),
        "risks": lambda: copilot.risks(deal),
        "plan": lambda: copilot.plan(deal, case.horizon_months),
        "fit": lambda: copilot.fit(deal),
        "objection": lambda: copilot.objection(deal, text),
        "ask": lambda: copilot.ask(text, deal),
        "brief": lambda: copilot.brief(deal, None, case.horizon_months),
    }[skill]


def measure(settings: Any, limit: int, piece_ms: float) -> dict[str, Any]:
    from copilot.llm.model import get_chat_model

    module = __import__("openai_server")
    cases = load_skill_cases(default_dataset("skills"))
    kb = RecordingKnowledgeBase(KnowledgeBase.open(settings))
    kb.warm_up()
    first: dict[str, list[float]] = defaultdict(list)
    whole: dict[str, list[float]] = defaultdict(list)
    accepted: dict[str, list[bool]] = defaultdict(list)
    with model_server() as server:
        llm = llm_settings(settings, server)
        copilot = Copilot(llm, kb, get_chat_model(llm))
        engine = Engine(copilot=copilot, kb=kb)
        book = DraftBook()
        per_skill: dict[str, int] = defaultdict(int)
        calls = []
        for case in cases:  # the first `limit` cases of each skill
            for skill in case.skills:
                if per_skill[skill] < limit:
                    per_skill[skill] += 1
                    calls.append((case, skill))
        for case, skill in calls:
            book.calibrate(engine, server, case, skill)

        def trickle(body: dict[str, Any]) -> Any:
            behaviour = book.respond(body)
            if isinstance(behaviour, module.ReplyJSON):
                return module.Trickle(behaviour.data, interval_s=piece_ms / 1000, piece_chars=8)
            return behaviour

        for case, skill in calls:
            server.reset()
            server.script(*[module.Respond(trickle)] * 4)
            got: list[Any] = []
            started = time.monotonic()
            shown: float | None = None
            for event in copilot.stream(_call(copilot, case, skill), got.append):
                if event.kind == "text" and shown is None:
                    shown = time.monotonic()
            finished = time.monotonic()
            result = got[0]
            ok = result.mode == "llm" and not any(is_correction(n) for n in result.notices)
            if shown is not None:
                first[skill].append(shown - started)
            whole[skill].append(finished - started)
            accepted[skill].append(ok)
    return {
        "piece_ms": piece_ms,
        "calls": len(whole and [c for v in whole.values() for c in v]),
        "skills": {
            skill: {
                "first_token": summary_ms(first[skill]) if first[skill] else None,
                "whole_answer": summary_ms(whole[skill]),
                "accepted": sum(accepted[skill]),
                "calls": len(accepted[skill]),
            }
            for skill in whole
        },
    }


def markdown(data: dict[str, Any]) -> str:
    rows = []
    for skill, entry in data["skills"].items():
        ft, wa = entry["first_token"], entry["whole_answer"]
        ratio = f"{ft['p50_ms'] / wa['p50_ms']:.2f}x" if ft else "–"
        rows.append(
            [
                skill,
                f"{ft['p50_ms']:.0f} / {ft['p95_ms']:.0f}" if ft else "–",
                f"{wa['p50_ms']:.0f} / {wa['p95_ms']:.0f}",
                ratio,
                f"{entry['accepted']}/{entry['calls']}",
            ]
        )
    head = ["skill", "first token shown p50 / p95 ms", "whole checked answer p50 / p95 ms", "p50 ratio", "accepted"]
    return table(head, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(parser)
    parser.add_argument("--limit", type=int, default=4, help="calls per skill (its first N cases)")
    parser.add_argument("--piece-ms", type=float, default=20.0, help="ms between the streamed pieces")
    args = parser.parse_args()
    logging.getLogger("copilot.llm").setLevel(logging.ERROR)  # the 401s of the calibration round are expected
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    with tempfile.TemporaryDirectory(prefix="nego-bench-") as tmp:
        offline_environment(Path(tmp))
        try:
            settings, _ = indexed_home(args.home, Path(tmp))
            data = measure(settings, args.limit, args.piece_ms)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        intro = (
            f"The first {args.limit} cases of each skill in evals/datasets/skills.yaml ({data['calls']} calls); the "
            f"test server streams each calibrated draft 8 characters every {args.piece_ms:.0f} ms."
        )
        emit("Streaming in LLM mode", [intro, markdown(data)], data, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
