"""Retrieval benchmark: index time, no-op re-index, hybrid query latency and peak memory.

    python bench/retrieval_bench.py                  # shipped corpus, 10k and 100k chunks
    python bench/retrieval_bench.py --sizes shipped  # one size

Each corpus runs in its own subprocess so peak memory (ru_maxrss) is its own.
Synthetic corpora are built from the shipped corpus's own sentences, recombined
into Markdown documents, and indexed through the real loader, chunker, embedder,
Chroma store and BM25: nothing is mocked.

open_s is the first open after indexing (every chunk read from Chroma, BM25
built, the snapshot cache saved); reopen_s a later start in a fresh process,
which loads the cached snapshot (copilot/index/retriever_cache.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import SYNTHETIC_CHUNK_TOKENS, write_synthetic_corpus  # noqa: E402


def _queries() -> list[str]:
    from evals.retrieval import default_dataset, load_gold

    return [q.query for q in load_gold(default_dataset())]


def _reopen_in_new_process(home: Path) -> float:
    """Seconds to open the retriever in a fresh process, as every later start of the app does (cached snapshot)."""
    out = subprocess.run(
        [sys.executable, __file__, "--reopen", str(home)], capture_output=True, text=True, env=_env(), check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def reopen(home: str) -> float:
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore
    from copilot.settings import Settings

    settings = Settings(home=Path(home))
    started = time.perf_counter()
    Retriever(ChunkStore.open(settings))
    return time.perf_counter() - started


def _env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")


def run_one(size: str) -> dict[str, object]:
    from copilot.index.indexer import index_corpus
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore
    from copilot.settings import Settings

    with tempfile.TemporaryDirectory(prefix="nego-bench-") as tmp:
        tmpdir = Path(tmp)
        if size == "shipped":
            settings = Settings(home=tmpdir / "home")
        else:
            corpus = tmpdir / "corpus"
            write_synthetic_corpus(corpus, int(size))
            settings = Settings(home=tmpdir / "home", corpus_dir=corpus, chunk_max_tokens=SYNTHETIC_CHUNK_TOKENS)
        store = ChunkStore.open(settings)
        started = time.perf_counter()
        first = index_corpus(settings, store)
        index_s = time.perf_counter() - started
        started = time.perf_counter()
        again = index_corpus(settings, store)
        noop_s = time.perf_counter() - started
        assert again.added == again.updated == again.removed == 0, again.summary()

        started = time.perf_counter()
        Retriever(store)  # the first open reads every chunk, builds BM25 and saves the snapshot cache
        open_s = time.perf_counter() - started
        reopen_s = _reopen_in_new_process(settings.home)
        retriever = Retriever(store)
        queries = _queries()
        for q in queries[:5]:  # warm-up: jieba dictionary, encoder weights
            retriever.search(q, k=5)
        latencies = []
        for _round in range(3):
            for q in queries:
                t0 = time.perf_counter()
                retriever.search(q, k=5)
                latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "corpus": size,
            "documents": first.documents,
            "chunks": first.chunks,
            "index_s": round(index_s, 2),
            "noop_reindex_s": round(noop_s, 3),
            "open_s": round(open_s, 2),
            "reopen_s": round(reopen_s, 2),
            "queries": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "peak_mb": round(peak_mb),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="shipped,10000,100000", help="comma list: shipped and/or chunk counts")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--reopen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reopen:
        print(reopen(args.reopen))
        return 0
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    rows = []
    for size in args.sizes.split(","):
        if size != "shipped" and not re.fullmatch(r"\d+", size):
            parser.error(f"--sizes: {size!r} is neither 'shipped' nor a chunk count")
        out = subprocess.run(
            [sys.executable, __file__, "--one", size], capture_output=True, text=True, env=_env(), check=False
        )
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    header = ["corpus", "documents", "chunks", "index_s", "noop_reindex_s", "open_s", "reopen_s", "queries"]
    header += ["p50_ms", "p95_ms", "peak_mb"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    print(f"\nmachine: {machine}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
