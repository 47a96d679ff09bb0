"""Retrieval quality on the gold queries: recall@5 and MRR@10 per method and slice.

A gold query lists the ids of the documents that answer it. A cross-lingual
query carries `target_lang`: it is searched only among passages in that
language (a Chinese question answered from English text, or the reverse),
which is what tests that retrieval crosses languages rather than matching words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.index.models import SearchFilters
from copilot.index.retriever import Mode, Retriever
from copilot.vocabulary import DocType, Language, ScenarioKey
from evals.cases import DatasetError as CasesDatasetError
from evals.cases import read_dataset_text

MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
SLICES = ("zh", "en", "cross", "all")


class DatasetError(ValueError):
    """A dataset line is invalid; the message names file, line and field."""


class GoldQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    query: str = Field(min_length=1)
    lang: Language
    relevant: list[str] = Field(min_length=1)
    scenario: ScenarioKey | None = None
    type: DocType | None = None
    target_lang: Language | None = None
    note: str | None = None

    @property
    def slice(self) -> Literal["zh", "en", "cross"]:
        if self.target_lang is not None and self.target_lang != self.lang:
            return "cross"
        return self.lang


def default_dataset() -> Path:
    return Path(__file__).resolve().parent / "datasets" / "retrieval.jsonl"


def load_gold(path: Path) -> list[GoldQuery]:
    """Gold queries from a JSONL file (one JSON object per line); problems name file, line and field."""
    try:
        text = read_dataset_text(path)
    except CasesDatasetError as exc:
        raise DatasetError(str(exc)) from exc
    queries: list[GoldQuery] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}:{number}: json: {exc.msg} (column {exc.colno}); expected one JSON object per line"
            ) from exc
        except RecursionError as exc:
            raise DatasetError(f"{path}:{number}: json: nested too deeply") from exc
        if not isinstance(data, dict):
            raise DatasetError(f"{path}:{number}: line: expected a JSON object, got {type(data).__name__}")
        try:
            query = GoldQuery.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "line"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            raise DatasetError(f"{path}:{number}: {field}: {msg}") from exc
        if query.id in seen:
            raise DatasetError(f"{path}:{number}: id: duplicate id {query.id!r}")
        seen.add(query.id)
        queries.append(query)
    if not queries:
        raise DatasetError(f"{path}:1: queries: the dataset holds no queries")
    return queries


def rank_docs(retriever: Retriever, query: GoldQuery, mode: Mode, k: int = 10, deal: bool = False) -> list[str]:
    """`deal`: search as a skill does for a deal of the query's scenario (its documents preferred)."""
    filters = SearchFilters(language=query.target_lang) if query.target_lang else None
    scenario = query.scenario if deal else None
    hits = retriever.search(query.query, k=k, filters=filters, mode=mode, prefer_scenario=scenario)
    ranked: list[str] = []
    for hit in hits:
        if hit.doc_id not in ranked:
            ranked.append(hit.doc_id)
    return ranked


def recall_at(ranked: list[str], relevant: list[str], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(set(relevant))


def reciprocal_rank(ranked: list[str], relevant: list[str], k: int) -> float:
    for position, doc_id in enumerate(ranked[:k], 1):
        if doc_id in relevant:
            return 1.0 / position
    return 0.0


def evaluate(retriever: Retriever, gold: list[GoldQuery]) -> dict[str, Any]:
    """Metrics per mode and slice, plus the queries each mode missed at 5."""
    per_mode: dict[str, dict[str, dict[str, float]]] = {}
    misses: dict[str, list[str]] = {}
    for mode in MODES:
        sums = {s: {"recall@5": 0.0, "mrr@10": 0.0, "n": 0.0} for s in SLICES}
        misses[mode] = []
        for query in gold:
            ranked = rank_docs(retriever, query, mode)
            recall = recall_at(ranked, query.relevant, 5)
            rr = reciprocal_rank(ranked, query.relevant, 10)
            if recall < 1.0:
                misses[mode].append(query.id)
            for name in (query.slice, "all"):
                sums[name]["recall@5"] += recall
                sums[name]["mrr@10"] += rr
                sums[name]["n"] += 1
        per_mode[mode] = {
            name: {
                "recall@5": round(v["recall@5"] / v["n"], 4) if v["n"] else 0.0,
                "mrr@10": round(v["mrr@10"] / v["n"], 4) if v["n"] else 0.0,
                "n": int(v["n"]),
            }
            for name, v in sums.items()
        }
    return {"queries": len(gold), "metrics": per_mode, "misses": misses}


def format_table(report: dict[str, Any]) -> str:
    metrics = report["metrics"]
    lines = [f"{report['queries']} gold queries", f"{'slice':<7}{'n':>4}  " + "".join(f"{m:>22}" for m in MODES)]
    lines.append(" " * 13 + "".join(f"{'recall@5  MRR@10':>22}" for _ in MODES))
    for name in SLICES:
        n = metrics["hybrid"][name]["n"]
        cells = "".join(f"{metrics[m][name]['recall@5']:>13.3f}{metrics[m][name]['mrr@10']:>9.3f}" for m in MODES)
        lines.append(f"{name:<7}{n:>4}  {cells}")
    return "\n".join(lines)
