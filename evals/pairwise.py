"""Pairwise A/B judging of two runs: for each case and skill whose output changed, which one is better.

Used by `nego eval compare A B --judge P`. The order each pair is shown in is
drawn from the seed (evals.judge.pair_order), calls run concurrently through
the run cache, and judge failures are counted apart from wins, losses and ties.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from copilot.settings import Settings
from evals.judge import Judge, PairwiseResult
from evals.models import CaseResult

CONCURRENCY = 4


def changed_pairs(a_results: list[CaseResult], b_results: list[CaseResult]) -> list[tuple[str, str, str, str, str]]:
    """(key, lang, task, answer A, answer B) for every output present in both runs whose text differs."""
    a_by = {r.case_id: r for r in a_results}
    pairs = []
    for rb in sorted(b_results, key=lambda r: r.index):
        ra = a_by.get(rb.case_id)
        if ra is None:
            continue
        a_out = {o.skill: o for o in ra.outputs if o.error is None and o.text}
        for ob in rb.outputs:
            oa = a_out.get(ob.skill)
            if oa is None or ob.error is not None or not ob.text or oa.text == ob.text:
                continue
            pairs.append((f"{rb.case_id}/{ob.skill}", rb.lang or "en", ob.task or oa.task, oa.text, ob.text))
    return pairs


def judge_pairs(
    settings: Settings, models: Any, a_results: list[CaseResult], b_results: list[CaseResult], seed: int = 0
) -> list[PairwiseResult]:
    judge = Judge(models.judge, settings, seed=seed)
    pairs = changed_pairs(a_results, b_results)
    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="pairwise") as pool:
        futures = [
            pool.submit(judge.compare, key=key, lang=lang, task=task, answer_a=a, answer_b=b)
            for key, lang, task, a, b in pairs
        ]
        return [f.result() for f in futures]


def pairwise_text_of(results: list[PairwiseResult]) -> str:
    if not results:
        return "pairwise judge: no output changed between the runs"
    wins = {w: sum(r.winner == w for r in results) for w in ("a", "b", "tie")}
    failures = [r for r in results if r.error is not None]
    lines = [
        f"pairwise judge on {len(results)} changed outputs: A better {wins['a']}, B better {wins['b']}, "
        f"tie {wins['tie']}, judge failures {len(failures)} (not counted)"
    ]
    lines += [f"- {r.key}: A better — {r.rationale}" for r in results if r.winner == "a"]
    lines += [f"- {r.key}: judge failed — {r.error}" for r in failures]
    return "\n".join(lines)
