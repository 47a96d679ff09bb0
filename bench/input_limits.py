"""What oversized and broken input costs: Copilot.chat offline on 200k-character messages, and the cut itself.

    python bench/input_limits.py                 # index into a temp home, then measure
    python bench/input_limits.py --home ~/.nego  # reuse an indexed home
    python bench/input_limits.py --rounds 5

Each message goes through the whole chat turn (clean, cut to `input_max_tokens` with tiktoken, route,
retrieve, compose, render), offline. The cut alone (copilot.inputs.prepare_text) is timed separately;
so is a deal at the form's limits (4 lists of 30 items of 500 characters). Target: a 200k-character
message answered in well under 2 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchError, add_common_args, emit, indexed_home, offline_environment, summary_ms, table
from copilot.core import Copilot
from copilot.deal import Deal
from copilot.inputs import fit_deal, prepare_text
from copilot.knowledge import KnowledgeBase

TARGET_CHAT_P95_MS = 2000.0
_ZH = "二级供应商融资难，账期长达90天，银行无法核实贸易背景，我们想用区块链把应收账款拆分流转。"
_EN = "The buyer asks why not a shared database; what did TradeLens get wrong and what can we claim? "
MESSAGES: dict[str, str] = {
    "zh prose, 200k chars": (_ZH * 5000)[:200_000],
    "en prose, 200k chars": (_EN * 3000)[:200_000],
    "one 200k-char word": "a" * 200_000,
    "binary garbage, 200k chars": "".join(chr(i % 0x250) for i in range(200_000)),
    "mixed + emoji, 1M chars": ((_ZH + "😅👩‍💻" + _EN) * 7000)[:1_000_000],
}


def huge_deal() -> Deal:
    item = (_ZH * 20)[:500]
    return Deal(
        customer="华东汽配集团",
        scenario="supply_chain_finance",
        audience=[item] * 30,
        pains=[item] * 30,
        goals=[item] * 30,
        systems=[item] * 30,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per message (after one warm-up)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nego-bench-") as tmp:
        offline_environment(Path(tmp))
        try:
            settings, _ = indexed_home(args.home, Path(tmp))
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        copilot = Copilot(settings, KnowledgeBase.open(settings))
        deal = Deal(customer="华东汽配集团", scenario="supply_chain_finance", pains=["账期长达90天"])
        list(copilot.chat("供应链金融有哪些案例？", [], deal))  # warm-up: models and caches loaded
        rows: list[list[Any]] = []
        data: dict[str, Any] = {"rounds": args.rounds, "input_max_tokens": settings.input_max_tokens, "chat": {}}
        for name, message in MESSAGES.items():
            started = time.perf_counter()
            prepared = prepare_text(message, settings)
            cut_ms = (time.perf_counter() - started) * 1000
            times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                events = list(copilot.chat(message, [], deal))
                times.append(time.perf_counter() - started)
            skill = next((e.skill for e in events if e.kind == "result"), None)
            figures = {"chars": len(message), "kept_chars": len(prepared.text), "cut_ms": round(cut_ms, 1)}
            figures |= summary_ms(times)
            data["chat"][name] = figures
            rows.append([name, len(message), len(prepared.text), cut_ms, figures["p50_ms"], figures["max_ms"], skill])
        started = time.perf_counter()
        fitted, _ = fit_deal(huge_deal(), settings)
        deal_cut_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        copilot.brief(huge_deal())
        brief_ms = (time.perf_counter() - started) * 1000
        data["huge_deal"] = {"chars": len(huge_deal().text()), "kept_chars": len(fitted.text()), "cut_ms": deal_cut_ms}
        data["huge_deal"]["brief_ms"] = round(brief_ms, 1)
        worst = max(f["max_ms"] for f in data["chat"].values())
        verdict = "met" if worst <= TARGET_CHAT_P95_MS else "MISSED"
        sections = [
            table(["message", "chars", "kept chars", "cut ms", "chat p50 ms", "chat max ms", "skill"], rows),
            f"A deal at the form's limits ({len(huge_deal().text()):,} characters) is cut to "
            f"{len(fitted.text()):,} in {deal_cut_ms:.0f} ms; its brief takes {brief_ms:,.0f} ms.",
            f"Target: every chat turn under {TARGET_CHAT_P95_MS:,.0f} ms: {verdict} (slowest {worst:,.0f} ms).",
        ]
        emit("Oversized input (offline)", sections, data, args.json)
        return 0 if worst <= TARGET_CHAT_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
