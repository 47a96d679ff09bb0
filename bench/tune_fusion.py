"""Tune the retriever's fusion (copilot/index/fusion.py) on one half of the gold queries, report on the other.

    python bench/tune_fusion.py --work W [--json out.json]

W is a work directory of bench/compare_retrieval.py (W/corpus, W/home: an index built by its
`ours-index` step, e.g. the shipped corpus plus synthetic distractors at 10k chunks).

The 148 gold queries of evals/datasets/retrieval.jsonl are split in two halves by a hash of their
id (stable, independent of order and content): "tune" and "test". Each ranker's candidates are
computed once per query through the product's Retriever (`rankings`: BM25 passages, dense passages,
title matches, under the same filters as the eval: cross-lingual queries restricted to their
target language), then fusion parameters are searched on the tune half only, one step at a time,
each step keeping the previous steps' choices:

1. per-slice weights (zh, en, cross): the dense weight and RRF k (BM25's weight stays 1);
2. document-level scoring: the title ranker's weight and the weight of a document's later passages,
   with the dense weight and k searched again beside them;
3. the deal's scenario as a soft boost (the gold query's `scenario` stands for the deal's), a
   separate figure: a search without a deal does not get it.

Every step is reported on tune, test and all, so the held-out figures are never the ones the
choice was made on. The chosen parameters are printed as Python for fusion.PARAMS; the product's
figures (through `Retriever.search`, latency included) come from compare_retrieval.py.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from copilot.index.fusion import BASELINE, FusionParams, Slice, fuse, query_slice  # noqa: E402
from copilot.index.models import SearchFilters  # noqa: E402
from copilot.text.lang import detect_language  # noqa: E402

SLICES: tuple[Slice, ...] = ("zh", "en", "cross")
POOL = 100  # what Retriever.search uses for its top 10 (max(50, 10 * k))
DENSE = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)
RRF_KS = (5, 10, 20, 40, 60)
TITLES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
MORE_CHUNKS = (0.0, 0.1, 0.25, 0.5)
BOOSTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


def half(query_id: str) -> str:
    """ "tune" or "test", from the first byte of the id's SHA-256: the same split on every machine."""
    return "tune" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "test"


class Candidates:
    """One gold query's rankings, as document ids (passages' documents, repeats kept)."""

    def __init__(
        self, query: Any, retriever: Any, corpus: str, scenarios: dict[str, list[str]], pool: int = POOL
    ) -> None:
        """`scenarios`: each document's scenarios."""
        self.corpus = corpus
        filters = SearchFilters(language=query.target_lang) if query.target_lang else SearchFilters()
        ranked = retriever.rankings(query.query, filters, "hybrid", None, pool, True)
        self.query = query
        self.sparse = [retriever.rows[s.index].doc_id for s in ranked.sparse]
        self.dense = [retriever.rows[s.index].doc_id for s in ranked.dense]
        self.titles = list(ranked.titles)
        self.slice = query_slice(detect_language(query.query), query.target_lang)
        everything = {*self.sparse, *self.dense, *self.titles}
        self.boosted = {d for d in everything if query.scenario and query.scenario in scenarios[d]}

    def ranked(self, params: FusionParams, deal: bool) -> list[str]:
        scores = fuse(self.sparse, self.dense, self.titles, params, self.boosted if deal else set())
        return [d for d, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))][:10]


def metrics(cands: list[Candidates], params: dict[Slice, FusionParams], deal: bool) -> dict[str, float]:
    from evals.retrieval import recall_at, reciprocal_rank

    if not cands:
        return {"recall@5": 0.0, "mrr@10": 0.0, "n": 0}
    recall = rr = 0.0
    for c in cands:
        docs = c.ranked(params[c.slice], deal)
        recall += recall_at(docs, c.query.relevant, 5)
        rr += reciprocal_rank(docs, c.query.relevant, 10)
    return {"recall@5": round(recall / len(cands), 4), "mrr@10": round(rr / len(cands), 4), "n": len(cands)}


def _recalls(cands: list[Candidates], params: FusionParams, deal: bool) -> dict[str, tuple[float, float]]:
    """(recall@5, MRR@10) per corpus ("name") and per corpus and slice ("name/slice")."""
    out = {}
    for name in dict.fromkeys(c.corpus for c in cands):
        mine = [c for c in cands if c.corpus == name]
        m = metrics(mine, dict.fromkeys(SLICES, params), deal)
        out[name] = (m["recall@5"], m["mrr@10"])
        for s in SLICES:
            m = metrics([c for c in mine if c.slice == s], dict.fromkeys(SLICES, params), deal)
            out[f"{name}/{s}"] = (m["recall@5"], m["mrr@10"])
    return out


def _objective(
    cands: list[Candidates], params: FusionParams, deal: bool, base: dict[str, tuple[float, float]]
) -> tuple[float, float, float]:
    """First no corpus and no slice of one below the baseline's recall@5 or MRR@10 (the worst loss, 0 when
    none: a gain at 10k passages must not cost the shipped corpus, whose tests hold hybrid to the better
    single method on every slice), then the mean recall@5 over the corpora, then the mean MRR@10."""
    got = _recalls(cands, params, deal)
    loss = min(0.0, *(got[key][i] - base[key][i] for key in got for i in (0, 1)))
    whole = [value for key, value in got.items() if "/" not in key]
    return (round(loss, 4), sum(r for r, _ in whole) / len(whole), sum(m for _, m in whole) / len(whole))


def search(cands: list[Candidates], start: FusionParams, grid: dict[str, tuple[Any, ...]], deal: bool) -> FusionParams:
    """The best point of `grid` (fields of FusionParams) on `cands` (see `_objective`, measured against the
    baseline without a deal); ties keep the earlier point (the grids start at the baseline's values)."""
    base = _recalls(cands, BASELINE, False)
    best, best_score = start, _objective(cands, start, deal, base)
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        changes: dict[str, Any] = dict(zip(names, values, strict=True))
        candidate = replace(start, **changes)
        score = _objective(cands, candidate, deal, base)
        if score > best_score:
            best, best_score = candidate, score
    return best


def report(cands: list[Candidates], params: dict[Slice, FusionParams], deal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("tune", "test", "all"):
        chosen = [c for c in cands if part == "all" or half(c.query.id) == part]
        out[part] = {s: metrics([c for c in chosen if c.slice == s], params, deal) for s in SLICES}
        out[part]["all"] = metrics(chosen, params, deal)
    return out


STEPS: tuple[tuple[str, dict[str, tuple[Any, ...]], bool], ...] = (
    ("1 dense weight and k", {"dense": DENSE, "rrf_k": RRF_KS}, False),
    (
        "2 + title ranker and later passages",
        {"dense": DENSE, "rrf_k": RRF_KS, "title": TITLES, "more_chunks": MORE_CHUNKS},
        False,
    ),
    ("3 + the deal's scenario boosted", {"scenario_boost": BOOSTS}, True),
)


VARIANTS: dict[str, tuple[bool, tuple[int, ...]]] = {
    "per-slice": (True, (0, 1, 2)),
    "shared": (False, (0, 1, 2)),
    "deal-only": (False, (2,)),
}
"""name: (one set per slice, which STEPS are searched); "deal-only" keeps the baseline's weights."""


def fit(cands: list[Candidates], variant: str) -> list[dict[Slice, FusionParams]]:
    """The parameters after each step of `variant` (see VARIANTS), searched on `cands`."""
    per_slice, indexes = VARIANTS[variant]
    current: dict[Slice, FusionParams] = dict.fromkeys(SLICES, BASELINE)
    out = []
    for _name, grid, deal in (STEPS[i] for i in indexes):
        if per_slice:
            current = {s: search([c for c in cands if c.slice == s], current[s], grid, deal) for s in SLICES}
        else:
            current = dict.fromkeys(SLICES, search(cands, current["zh"], grid, deal))
        out.append(current)
    return out


def inner_cv(tune_half: list[Candidates], variant: str) -> float:
    """recall@5 of the whole pipeline (step 3) by two-fold cross-validation inside the tune half: how the
    choice between per-slice and shared weights is made without looking at the test half."""
    fold = {c.query.id: hashlib.sha256(c.query.id.encode()).digest()[1] % 2 for c in tune_half}
    total = 0.0
    for f in (0, 1):
        train = [c for c in tune_half if fold[c.query.id] == f]
        held = [c for c in tune_half if fold[c.query.id] != f]
        total += metrics(held, fit(train, variant)[-1], True)["recall@5"] * len(held)
    return round(total / len(tune_half), 4)


def tune(cands: list[Candidates]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tune_half = [c for c in cands if half(c.query.id) == "tune"]
    steps: list[dict[str, Any]] = [
        {"step": "0 baseline (one set for all)", "deal": False, "params": dict.fromkeys(SLICES, BASELINE)}
    ]
    cv = {}
    for label, (_per_slice, indexes) in VARIANTS.items():
        cv[label] = inner_cv(tune_half, label)
        for i, params in zip(indexes, fit(tune_half, label), strict=True):
            name, _grid, deal = STEPS[i]
            steps.append({"step": f"{label} {name}", "deal": deal, "params": params})
    for step in steps:
        step["figures"] = per_corpus(cands, step["params"], step["deal"])
    chosen = max(cv, key=lambda label: cv[label])
    return steps, {"inner_cv_recall@5": cv, "chosen": chosen}


def per_corpus(cands: list[Candidates], params: dict[Slice, FusionParams], deal: bool) -> dict[str, Any]:
    names = dict.fromkeys(c.corpus for c in cands)
    return {name: report([c for c in cands if c.corpus == name], params, deal) for name in names}


def applied(cands: list[Candidates], saved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps of an earlier run (parameters chosen elsewhere, e.g. at 10k) reported on these candidates."""
    steps = []
    for step in saved:
        params = {s: FusionParams(**step["params"][s]) for s in SLICES}
        steps.append({"step": step["step"], "deal": step["deal"], "params": params})
        steps[-1]["figures"] = per_corpus(cands, params, step["deal"])
    return steps


def table(steps: list[dict[str, Any]]) -> str:
    lines = [
        "| corpus | step | tune recall@5 | test recall@5 (zh / en / cross) | all recall@5 | all MRR@10 |",
        "|---|---|---|---|---|---|",
    ]
    for corpus in steps[0]["figures"]:
        for step in steps:
            f = step["figures"][corpus]
            per = " / ".join(f"{f['test'][s]['recall@5']:.3f}" for s in SLICES)
            lines.append(
                f"| {corpus} | {step['step']} | {f['tune']['all']['recall@5']:.3f} "
                f"| {f['test']['all']['recall@5']:.3f} ({per}) "
                f"| {f['all']['all']['recall@5']:.3f} | {f['all']['all']['mrr@10']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--work",
        type=Path,
        action="append",
        required=True,
        help="compare_retrieval work dir (corpus/, home/); repeat it to tune on several corpora at once "
        "(the objective is the mean over them, each corpus weighing the same)",
    )
    parser.add_argument("--json", type=Path, help="also write the steps and figures to this JSON file")
    parser.add_argument("--pool", type=int, default=POOL, help="passages each ranker returns per query")
    parser.add_argument("--apply", type=Path, help="no tuning: report the steps of this earlier --json on --work")
    args = parser.parse_args(argv)
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore
    from copilot.settings import Settings
    from evals.retrieval import default_dataset, load_gold

    gold = load_gold(default_dataset())
    cands: list[Candidates] = []
    for work in args.work:
        store = ChunkStore.open(Settings(home=work / "home", corpus_dir=work / "corpus"))
        retriever = Retriever(store, fusion={"zh": replace(BASELINE, title=1.0)})  # titles indexed too
        name = f"{work.name} ({len(retriever)} passages)"
        scenarios = {r.doc_id: r.scenarios for r in retriever.rows}  # lean rows keep them too
        cands += [Candidates(q, retriever, name, scenarios, args.pool) for q in gold]
    halves = {h: sum(1 for q in gold if half(q.id) == h) for h in ("tune", "test")}
    saved = json.loads(args.apply.read_text(encoding="utf-8")) if args.apply else None
    steps, choice = (applied(cands, saved["steps"]), saved["choice"]) if saved is not None else tune(cands)
    print(f"{len(gold)} gold queries: {halves['tune']} tune, {halves['test']} test")
    print(table(steps))
    print(f"inner cross-validation on the tune half: {choice['inner_cv_recall@5']}; highest: {choice['chosen']}")
    final = [s for s in steps if s["step"].startswith(choice["chosen"])][-1]
    for name, params in final["params"].items():
        print(f"    {name!r}: {params},")
    if args.json:
        out = [{**s, "params": {k: asdict(v) for k, v in s["params"].items()}} for s in steps]
        data = {"halves": halves, "choice": choice, "steps": out}
        args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
