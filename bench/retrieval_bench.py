"""Retrieval benchmark: index time, no-op re-index, hybrid query latency and peak memory.

    python bench/retrieval_bench.py                  # shipped corpus, 10k and 100k chunks
    python bench/retrieval_bench.py --sizes shipped  # one size

Each corpus runs in its own subprocess so peak memory (ru_maxrss) is its own.
Synthetic corpora are built from the shipped corpus's own sentences, recombined
into Markdown documents, and indexed through the real loader, chunker, embedder,
Chroma store and BM25: nothing is mocked.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

from copilot.vocabulary import SCENARIOS  # noqa: E402

SCENARIO_KEYS = list(SCENARIOS)
SYNTHETIC_CHUNK_TOKENS = 96
CHUNKS_PER_DOC = 20  # 10 per language


def _sentences() -> tuple[list[str], list[str]]:
    from copilot import paths
    from copilot.corpus.loader import load_corpus
    from copilot.text.chunking import split_sentences

    zh: list[str] = []
    en: list[str] = []
    for doc in load_corpus(paths.corpus_dir()).documents:
        for lang, bucket in (("zh", zh), ("en", en)):
            for sentence in split_sentences(doc.sections[lang]):
                if len(sentence) > 20 and not sentence.startswith("#"):
                    bucket.append(sentence)
    return zh, en


def write_synthetic_corpus(root: Path, chunks: int, seed: int = 7) -> None:
    """Documents of 10 short sections per language, each section about one chunk."""
    rng = random.Random(seed)
    zh, en = _sentences()
    docs = max(1, chunks // CHUNKS_PER_DOC)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    for n in range(docs):
        scenario = SCENARIO_KEYS[n % len(SCENARIO_KEYS)]
        parts = [
            "---",
            f"id: syn-{n:06d}",
            "type: case",
            f"title_zh: 合成案例 {n}",
            f"title_en: Synthetic case {n}",
            f"scenarios: [{scenario}]",
            f"regions: [{rng.choice(['cn', 'eu', 'us', 'global'])}]",
            "sources:",
            "  - title: synthetic",
            "    url: https://example.org/synthetic",
            "updated: 2026-11-24",
            "---",
            "",
            "## 中文",
        ]
        for s in range(CHUNKS_PER_DOC // 2):
            parts += [f"### 段落 {s}", "".join(rng.sample(zh, 2)), ""]
        parts.append("## English")
        for s in range(CHUNKS_PER_DOC // 2):
            parts += [f"### Section {s}", " ".join(rng.sample(en, 2)), ""]
        (root / "cases" / f"syn-{n:06d}.md").write_text("\n".join(parts), encoding="utf-8")


def _queries() -> list[str]:
    from evals.retrieval import default_dataset, load_gold

    return [q.query for q in load_gold(default_dataset())]


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
        retriever = Retriever(store)
        open_s = time.perf_counter() - started
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
            "queries": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "peak_mb": round(peak_mb),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="shipped,10000,100000", help="comma list: shipped and/or chunk counts")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    rows = []
    for size in args.sizes.split(","):
        if size != "shipped" and not re.fullmatch(r"\d+", size):
            parser.error(f"--sizes: {size!r} is neither 'shipped' nor a chunk count")
        env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
        out = subprocess.run(
            [sys.executable, __file__, "--one", size], capture_output=True, text=True, env=env, check=False
        )
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    header = ["corpus", "documents", "chunks", "index_s", "noop_reindex_s", "open_s", "queries", "p50_ms", "p95_ms"]
    header.append("peak_mb")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
