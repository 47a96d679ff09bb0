"""Index upkeep and serving memory at 100k chunks, the baseline code and this code side by side in one run.

    python bench/scale.py --work DIR --baseline SRC [--baseline SRC2] [--size 100000]

DIR keeps the corpus and the indexes between runs (built once: the first run writes the
distracted corpus of bench/synthetic.py and indexes it; later runs reuse it). SRC is a
checkout of the code to compare against (e.g. `git archive main | tar -x -C SRC`); the
Chroma index is shared, so both must store the same format. Each measure runs in a fresh
subprocess (its own peak memory), first with SRC, then with this checkout:

- noop_s: `index_corpus` on the unchanged corpus (4 runs: the first after the other code's
  writes, then the median of 3);
- add_s: one new document added to the corpus and indexed; the document is then removed
  and the index brought back (not timed);
- open_s, serve_peak_mb, p50/p95 ms, recall@5: a Retriever opened (from its cache, warmed
  beforehand) and the 148 gold queries searched 2 rounds, hybrid; peak RSS of the process;
- langchain: the plain pipeline of bench/compare_retrieval.py on the same corpus and embedder.

The embedder is a deterministic hashing embedder (bench-only, 512 dimensions, numpy) by default:
what is measured here is the index's upkeep and memory, which do not depend on the vectors' meaning,
and on a 2-core machine shared with other jobs the real encoder can take hours for 100k chunks; its
recall figures are not the product's. `--embedder use` runs the same steps with the product's own
encoder on an index built by bench/compare_retrieval.py (same work-dir layout: corpus/, home/,
langchain/): then recall, memory and latency are the product's, each query paying its embedding.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CODE = os.environ.get("NEGO_BENCH_CODE")
sys.path.insert(0, str(ROOT))
if CODE:
    sys.path.insert(0, CODE)  # the code under test wins over this checkout's

import numpy as np  # noqa: E402
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # noqa: E402
from chromadb.utils.embedding_functions import register_embedding_function  # noqa: E402

DIMS = 512
ADDED = "zz-bench-added"
EMBEDDER = os.environ.get("NEGO_BENCH_EMBEDDER", "hash")  # "hash" or "use": set by --embedder, passed to the steps


@register_embedding_function
class HashEmbedder(EmbeddingFunction[Documents]):
    """Signed feature hashing of words and CJK character bigrams into 512 dimensions, L2-normalised."""

    def __init__(self) -> None:
        pass

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        for row, text in enumerate(texts):
            features = text.lower().split()
            cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
            features += [a + b for a, b in itertools.pairwise(cjk)]
            for feature in features:
                h = zlib.crc32(feature.encode())
                out[row, h % DIMS] += 1.0 if h & 0x80000000 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        result: np.ndarray = out / np.where(norms == 0, 1.0, norms)
        return result

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "bench-hash"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashEmbedder:
        return HashEmbedder()

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process so far (user + system): steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settings(work: Path) -> Any:
    from copilot.settings import Settings

    return Settings(home=work / "home", corpus_dir=work / "corpus")


def _store(work: Path) -> Any:
    from copilot.index.store import ChunkStore

    try:
        from copilot.index.chroma_client import chroma_client
    except ImportError:  # the code under test is older than copilot/index/chroma_client.py
        from copilot.index.store import _client as chroma_client  # type: ignore[attr-defined,no-redef]

    settings = _settings(work)
    if EMBEDDER == "use":
        return ChunkStore.open(settings)
    embedder: Any = HashEmbedder()
    return ChunkStore(chroma_client(settings), embedder, str(settings.index_dir / "chroma"), local=True)


# -- steps (each in its own process) ------------------------------------------------------------------
def step_build(work: Path) -> dict[str, Any]:
    from copilot.index.indexer import index_corpus

    started = time.perf_counter()
    report = index_corpus(_settings(work), _store(work))
    return {"chunks": report.chunks, "documents": report.documents, "build_s": round(time.perf_counter() - started)}


def step_noop(work: Path) -> dict[str, Any]:
    from copilot.index.indexer import index_corpus

    settings, store = _settings(work), _store(work)
    started, cpu = time.perf_counter(), _cpu_s()
    report = index_corpus(settings, store)
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    assert report.added == report.updated == report.removed == 0, report.summary()
    return {"noop_s": round(seconds, 3), "noop_cpu_s": round(cpu, 3), "unchanged": report.unchanged}


def _added_document(work: Path) -> Path:
    source = work / "corpus" / "cases"
    first = sorted(source.glob("*.md"))[0]
    text = first.read_text(encoding="utf-8")
    doc_id = text.split("id:", 1)[1].split("\n", 1)[0].strip()
    folder = work / "corpus" / ADDED
    folder.mkdir(exist_ok=True)
    target = folder / "added.md"
    target.write_text(text.replace(f"id: {doc_id}", f"id: {doc_id}-bench-added", 1), encoding="utf-8")
    return target


def step_add(work: Path) -> dict[str, Any]:
    from copilot.index.indexer import index_corpus

    target = _added_document(work)
    settings, store = _settings(work), _store(work)
    started, cpu = time.perf_counter(), _cpu_s()
    report = index_corpus(settings, store)
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    assert report.added == 1, report.summary()
    shutil.rmtree(target.parent)
    restored = index_corpus(settings, _store(work))
    assert restored.removed == 1, restored.summary()
    return {"add_s": round(seconds, 3), "add_cpu_s": round(cpu, 3)}


def step_serve(work: Path, rounds: int) -> dict[str, Any]:
    from bench.compare_retrieval import measure
    from copilot.index.retriever import Retriever
    from evals.retrieval import default_dataset, load_gold, rank_docs

    if EMBEDDER == "use":
        from bench.compare_retrieval import _uncached_embeddings

        _uncached_embeddings()
    started = time.perf_counter()
    retriever = Retriever(_store(work))
    open_s = time.perf_counter() - started
    gold = load_gold(default_dataset())
    result = measure(gold, lambda q: rank_docs(retriever, q, "hybrid", k=10), rounds)
    return {"open_s": round(open_s, 2), **result, "serve_peak_mb": round(_peak_mb())}


def _langchain_embeddings() -> Any:
    from langchain_core.embeddings import Embeddings as LcEmbeddings

    if EMBEDDER == "use":
        from bench.compare_retrieval import _uncached_embeddings, langchain_embeddings

        _uncached_embeddings()
        return langchain_embeddings()

    class Hash(LcEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return HashEmbedder().encode(texts).tolist()  # type: ignore[no-any-return]

        def embed_query(self, text: str) -> list[float]:
            return HashEmbedder().encode([text])[0].tolist()  # type: ignore[no-any-return]

    return Hash()


def step_langchain_build(work: Path) -> dict[str, Any]:
    from langchain_chroma import Chroma

    from bench.compare_retrieval import LANGCHAIN_COLLECTION, _chroma_settings, langchain_documents

    started = time.perf_counter()
    documents = langchain_documents(work / "corpus")
    store = Chroma(
        collection_name=LANGCHAIN_COLLECTION,
        embedding_function=_langchain_embeddings(),
        persist_directory=str(work / "langchain"),
        client_settings=_chroma_settings(),
    )
    for start in range(0, len(documents), 2000):
        store.add_documents(documents[start : start + 2000])
    return {"chunks": int(store._collection.count()), "build_s": round(time.perf_counter() - started)}


def step_langchain_serve(work: Path, rounds: int) -> dict[str, Any]:
    from langchain_chroma import Chroma

    from bench.compare_retrieval import LANGCHAIN_COLLECTION, LANGCHAIN_K, RANK_DEPTH, _chroma_settings, measure
    from evals.retrieval import default_dataset, load_gold

    started = time.perf_counter()
    store = Chroma(
        collection_name=LANGCHAIN_COLLECTION,
        embedding_function=_langchain_embeddings(),
        persist_directory=str(work / "langchain"),
        client_settings=_chroma_settings(),
    )
    open_s = time.perf_counter() - started

    def rank(query: Any) -> list[str]:
        where = {"lang": query.target_lang} if query.target_lang else None
        docs: list[str] = []
        for hit in store.similarity_search(query.query, k=LANGCHAIN_K, filter=where):
            if str(hit.metadata["doc_id"]) not in docs:
                docs.append(str(hit.metadata["doc_id"]))
        return docs[:RANK_DEPTH]

    result = measure(load_gold(default_dataset()), rank, rounds)
    return {"open_s": round(open_s, 2), **result, "serve_peak_mb": round(_peak_mb())}


STEPS = {
    "build": lambda w, r: step_build(w),
    "noop": lambda w, r: step_noop(w),
    "add": lambda w, r: step_add(w),
    "serve": step_serve,
    "langchain-build": lambda w, r: step_langchain_build(w),
    "langchain-serve": step_langchain_serve,
}


# -- the parent ----------------------------------------------------------------------------------
def _child(step: str, work: Path, rounds: int, code: Path | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    if code is not None:
        env["NEGO_BENCH_CODE"] = str(code)
    env["NEGO_BENCH_EMBEDDER"] = EMBEDDER
    command = [sys.executable, __file__, "--step", step, "--work", str(work), "--rounds", str(rounds)]
    label = f"{step} ({code or 'this checkout'})"
    print(f"... {label}", file=sys.stderr, flush=True)
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"step failed: {label}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"    {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def run(work: Path, baselines: list[Path], size: int, rounds: int) -> dict[str, Any]:
    from bench.synthetic import write_distracted_corpus

    if not (work / "corpus").is_dir():
        write_distracted_corpus(work / "corpus", size)
    baseline = baselines[0]
    report: dict[str, Any] = {"size": size, "work": str(work), "baseline": str(baseline)}
    report["baselines"] = [str(b) for b in baselines]
    if not (work / "home").is_dir():
        report["build"] = _child("build", work, rounds, baseline)
    if not (work / "langchain").is_dir():
        report["langchain_build"] = _child("langchain-build", work, rounds, baseline)
    codes = [("baseline", baseline), *((f"baseline{i}", b) for i, b in enumerate(baselines[1:], 2)), ("new", None)]
    for name, code in codes:
        figures: dict[str, Any] = {}
        noops = [_child("noop", work, rounds, code) for _ in range(4)]
        figures["noop_first_s"] = noops[0]["noop_s"]  # after the other code's writes: no shortcut applies
        figures["noop_first_cpu_s"] = noops[0]["noop_cpu_s"]
        figures["noop_s"] = statistics.median(n["noop_s"] for n in noops[1:])
        figures["noop_cpu_s"] = statistics.median(n["noop_cpu_s"] for n in noops[1:])
        figures |= _child("add", work, rounds, code)
        _child("serve", work, 1, code)  # warms the retriever cache for this code's format
        figures |= _child("serve", work, rounds, code)
        report[name] = figures
    report["langchain"] = _child("langchain-serve", work, rounds, None)
    return report


def _figure(figures: dict[str, Any], key: str) -> Any:
    return figures["metrics"]["all"][key] if key == "recall@5" else figures[key]


def markdown(report: dict[str, Any]) -> str:
    base, new, lc = report["baseline"], report["new"], report["langchain"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "–"

    extra = [(k, report[k]) for k in sorted(report) if k.startswith("baseline") and k[8:].isdigit()]

    names = [
        ("first no-op re-index after another writer: wall s", "noop_first_s"),
        ("the same, CPU s", "noop_first_cpu_s"),
        ("no-op re-index (median of the next 3): wall s", "noop_s"),
        ("the same, CPU s", "noop_cpu_s"),
        ("add one document: wall s", "add_s"),
        ("the same, CPU s", "add_cpu_s"),
        ("open (cached) s", "open_s"),
        ("peak memory serving MB", "serve_peak_mb"),
        ("query p50 ms", "p50_ms"),
        ("query p95 ms", "p95_ms"),
        (f"recall@5 ({'the product encoder' if EMBEDDER == 'use' else 'hash embedder'})", "recall@5"),
    ]
    rows = [(name, _figure(base, key), _figure(new, key), key) for name, key in names]
    keys = [key for _, _, _, key in rows]
    rows3 = [(name, a, b) for name, a, b, _ in rows]
    others = [[_figure(fig, key) for key in keys] for _, fig in extra]
    head = "".join(f" {k} |" for k, _ in extra)
    lines = [
        f"| measure | baseline |{head} this code | this / baseline |",
        "|---|---|" + "---|" * len(extra) + "---|---|",
    ]
    # CPU s: the step's own process (user + system), index_corpus only; wall s includes waiting for the machine
    for i, (name, a, b) in enumerate(rows3):
        mid = "".join(f" {o[i]} |" for o in others)
        lines.append(f"| {name} | {a} |{mid} {b} | {ratio(b, a)} |")
    lines.append(
        f"\nlangchain on the same corpus and embedder: peak serving {lc['serve_peak_mb']} MB "
        f"(this code {ratio(new['serve_peak_mb'], lc['serve_peak_mb'])}, baseline "
        f"{ratio(base['serve_peak_mb'], lc['serve_peak_mb'])}); query p50/p95 {lc['p50_ms']}/{lc['p95_ms']} ms."
    )
    return "\n".join(lines)


def main() -> int:
    global EMBEDDER
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument(
        "--baseline", type=Path, action="append", help="checkout of the code to compare against (repeat: several)"
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--embedder", choices=("hash", "use"), default=EMBEDDER, help="see the module docstring")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    EMBEDDER = args.embedder
    if args.step:
        print(json.dumps(STEPS[args.step](args.work, args.rounds)))
        return 0
    if not args.baseline:
        parser.error("--baseline is required")
    report = run(args.work, args.baseline, args.size, args.rounds)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
