"""Side by side: this project's hybrid retrieval vs BM25 only, dense only and a plain langchain pipeline.

    python bench/compare_retrieval.py                              # gold, 10000 and 100000 chunks
    python bench/compare_retrieval.py --sizes gold,2000 --json out.json

Methods, on the same corpus and the same 148 gold queries (evals/datasets/retrieval.jsonl):

- hybrid: this project's Retriever (BM25 over jieba/English words + USE vectors, RRF).
- hybrid+deal: the same, searched as a skill does for a deal of the gold query's scenario (that
  scenario's documents preferred, none left out: copilot/index/fusion.py).
- bm25, dense: the same index and Retriever in its single-method modes (as `nego eval retrieval`).
- langchain: what a developer writes first: RecursiveCharacterTextSplitter over each document's
  text, `Chroma.from_documents` with a langchain Embeddings wrapping the SAME USE embedder, then
  `similarity_search(query, k=20)`, results mapped to document ids (first hit per document).

Sizes: "gold" is the shipped corpus; a number N is the shipped corpus PLUS synthetic distractor
documents (the corpus's own sentences recombined, bench/synthetic.py) up to N chunks, so every
gold query keeps its relevant documents and recall@5 / MRR@10 stay measurable at every size.

Each step runs in its own subprocess, so its peak memory (ru_maxrss) is its own: building our
index (shared by hybrid, bm25 and dense: one index time for the three), querying it in each mode,
building the langchain index, querying it. Query latency is measured on the same calls that are
scored (top 10 documents; cross-lingual queries filtered to their target language), after a
warm-up, over several rounds, with the embedder's text cache off: every query pays its embedding,
as a new user question does. Nothing is mocked; nothing is downloaded.
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = ("hybrid", "hybrid+deal", "bm25", "dense", "langchain")
OUR_MODES = ("hybrid", "hybrid+deal", "bm25", "dense")
SLICES = ("zh", "en", "cross", "all")
LANGCHAIN_CHUNK_CHARS = 1000  # langchain's tutorial values
LANGCHAIN_OVERLAP_CHARS = 200
LANGCHAIN_K = 20  # chunks fetched per query; documents repeat across chunks, 10 distinct are scored
LANGCHAIN_COLLECTION = "bench-langchain"
WARMUP_QUERIES = 5
DEFAULT_ROUNDS = 3
RANK_DEPTH = 10

RankFn = Callable[[Any], list[str]]


# -- helpers shared by the steps -------------------------------------------------------------------
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _no_default_embedder() -> None:
    """Fail loudly if chromadb ever falls back to its default embedder (it downloads an ONNX model)."""
    from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("chromadb tried to download its default embedder: pass an embedding function")

    setattr(onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "_download", refuse)  # noqa: B010


def _uncached_embeddings() -> None:
    """Every query pays its embedding: the embedder's text cache would make repeated rounds free."""
    from copilot.index import embedding

    embedding.CACHE_TEXTS = 0


def _settings(work: Path, size: str) -> Any:
    from copilot.settings import Settings

    if size == "gold":
        return Settings(home=work / "home")
    return Settings(home=work / "home", corpus_dir=work / "corpus")


def _corpus_dir(work: Path, size: str) -> Path:
    from copilot import paths

    return paths.corpus_dir() if size == "gold" else work / "corpus"


def score(gold: Sequence[Any], ranked: Sequence[list[str]]) -> dict[str, dict[str, float]]:
    """recall@5 and MRR@10 per slice (zh, en, cross, all), as evals/retrieval.py computes them."""
    from evals.retrieval import recall_at, reciprocal_rank

    sums = {s: [0.0, 0.0, 0] for s in SLICES}
    for query, docs in zip(gold, ranked, strict=True):
        recall = recall_at(docs, query.relevant, 5)
        rr = reciprocal_rank(docs, query.relevant, RANK_DEPTH)
        for name in (query.slice, "all"):
            sums[name][0] += recall
            sums[name][1] += rr
            sums[name][2] += 1
    return {
        name: {
            "recall@5": round(r / n, 4) if n else 0.0,
            "mrr@10": round(m / n, 4) if n else 0.0,
            "n": int(n),
        }
        for name, (r, m, n) in sums.items()
    }


def measure(gold: Sequence[Any], rank: RankFn, rounds: int) -> dict[str, Any]:
    """Warm up, then time `rank` on every gold query for `rounds` rounds; score the first round."""
    for query in gold[:WARMUP_QUERIES]:
        rank(query)
    first: list[list[str]] = []
    latencies: list[float] = []
    for round_no in range(rounds):
        for query in gold:
            started = time.perf_counter()
            docs = rank(query)
            latencies.append((time.perf_counter() - started) * 1000)
            if round_no == 0:
                first.append(docs)
    latencies.sort()
    return {
        "metrics": score(gold, first),
        "queries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
    }


# -- steps (each in its own subprocess) ------------------------------------------------------------
def step_ours_index(work: Path, size: str) -> dict[str, Any]:
    from copilot.index.indexer import index_corpus
    from copilot.index.store import ChunkStore

    settings = _settings(work, size)
    started = time.perf_counter()
    store = ChunkStore.open(settings)
    report = index_corpus(settings, store)
    return {
        "documents": report.documents,
        "chunks": report.chunks,
        "index_s": round(time.perf_counter() - started, 2),
        "index_peak_mb": round(_peak_mb()),
    }


def step_ours_open(work: Path, size: str) -> dict[str, Any]:
    """The first open after indexing: every chunk read from Chroma, BM25 built, the snapshot cache saved."""
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore

    started = time.perf_counter()
    Retriever(ChunkStore.open(_settings(work, size)))
    return {"first_open_s": round(time.perf_counter() - started, 2)}


def step_ours_query(work: Path, size: str, mode: str, rounds: int) -> dict[str, Any]:
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore
    from evals.retrieval import default_dataset, load_gold, rank_docs

    _uncached_embeddings()
    settings = _settings(work, size)
    started = time.perf_counter()
    retriever = Retriever(ChunkStore.open(settings))
    open_s = time.perf_counter() - started
    gold = load_gold(default_dataset())

    deal = mode == "hybrid+deal"

    def rank(query: Any) -> list[str]:
        return rank_docs(retriever, query, "hybrid" if deal else mode, k=RANK_DEPTH, deal=deal)  # type: ignore[arg-type]

    result = measure(gold, rank, rounds)
    return {"open_s": round(open_s, 2), **result, "query_peak_mb": round(_peak_mb())}


def langchain_embeddings() -> Any:
    """A langchain Embeddings over the project's USE embedder (copilot/index/embedding.py)."""
    from langchain_core.embeddings import Embeddings

    from copilot.index.embedding import UseEmbeddingFunction

    class UseEmbeddings(Embeddings):
        def __init__(self) -> None:
            self.function = UseEmbeddingFunction(threads=1)

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in v] for v in self.function.encode(texts)]

        def embed_query(self, text: str) -> list[float]:
            return [float(x) for x in self.function.encode([text])[0]]

    return UseEmbeddings()


def langchain_documents(corpus_dir: Path) -> list[Any]:
    """Each corpus document's text per language (title line + body), cut by the recursive splitter.

    Split per language so that a cross-lingual gold query can be searched among passages of its
    target language only (a metadata filter), as the other methods are: like for like.
    """
    from langchain_core.documents import Document as LcDocument
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from copilot.corpus.loader import load_corpus

    splitter = RecursiveCharacterTextSplitter(chunk_size=LANGCHAIN_CHUNK_CHARS, chunk_overlap=LANGCHAIN_OVERLAP_CHARS)
    pages = []
    for doc in load_corpus(corpus_dir).documents:
        for lang in ("zh", "en"):
            title = doc.meta.title_zh if lang == "zh" else doc.meta.title_en
            text = f"# {title}\n\n{doc.sections.get(lang, '')}"
            pages.append(LcDocument(page_content=text, metadata={"doc_id": doc.id, "lang": lang}))
    return list(splitter.split_documents(pages))


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def step_langchain_index(work: Path, size: str) -> dict[str, Any]:
    from langchain_chroma import Chroma

    _no_default_embedder()
    started = time.perf_counter()
    documents = langchain_documents(_corpus_dir(work, size))
    store = Chroma.from_documents(
        documents,
        embedding=langchain_embeddings(),
        collection_name=LANGCHAIN_COLLECTION,
        persist_directory=str(work / "langchain"),
        client_settings=_chroma_settings(),
    )
    index_s = time.perf_counter() - started
    return {
        "documents": len({d.metadata["doc_id"] for d in documents}),
        "chunks": int(store._collection.count()),
        "index_s": round(index_s, 2),
        "index_peak_mb": round(_peak_mb()),
    }


def step_langchain_query(work: Path, size: str, rounds: int) -> dict[str, Any]:
    from langchain_chroma import Chroma

    from evals.retrieval import default_dataset, load_gold

    _no_default_embedder()
    _uncached_embeddings()
    started = time.perf_counter()
    store = Chroma(
        collection_name=LANGCHAIN_COLLECTION,
        embedding_function=langchain_embeddings(),
        persist_directory=str(work / "langchain"),
        client_settings=_chroma_settings(),
    )
    open_s = time.perf_counter() - started
    gold = load_gold(default_dataset())

    def rank(query: Any) -> list[str]:
        where = {"lang": query.target_lang} if query.target_lang else None
        docs: list[str] = []
        for hit in store.similarity_search(query.query, k=LANGCHAIN_K, filter=where):
            doc_id = str(hit.metadata["doc_id"])
            if doc_id not in docs:
                docs.append(doc_id)
        return docs[:RANK_DEPTH]

    result = measure(gold, rank, rounds)
    return {"open_s": round(open_s, 2), **result, "query_peak_mb": round(_peak_mb())}


def run_step(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work)
    if args.step == "ours-index":
        return step_ours_index(work, args.size)
    if args.step == "ours-open":
        return step_ours_open(work, args.size)
    if args.step == "ours-query":
        return step_ours_query(work, args.size, args.mode, args.rounds)
    if args.step == "langchain-index":
        return step_langchain_index(work, args.size)
    if args.step == "langchain-query":
        return step_langchain_query(work, args.size, args.rounds)
    raise SystemExit(f"unknown step {args.step!r}")


# -- the parent: corpora, subprocesses, table ------------------------------------------------------
def _child(step: str, work: Path, size: str, rounds: int, mode: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--step", step, "--work", str(work), "--size", size, "--rounds", str(rounds)]
    if mode:
        command += ["--mode", mode]
    # A developer's own NEGO_* settings must not change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    label = f"{size} {step}{' ' + mode if mode else ''}"
    print(f"... {label}", file=sys.stderr, flush=True)
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"step failed: {label} (exit {out.returncode})")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"    {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def run_size(size: str, rounds: int, tmp_root: Path | None) -> dict[str, Any]:
    from bench.synthetic import write_distracted_corpus

    with tempfile.TemporaryDirectory(prefix=f"nego-compare-{size}-", dir=tmp_root) as tmp:
        work = Path(tmp)
        corpus: dict[str, Any] = {"size": size}
        if size == "gold":
            corpus["description"] = "the shipped corpus"
        else:
            info = write_distracted_corpus(work / "corpus", int(size))
            if info.shipped_chunks > int(size):
                raise SystemExit(
                    f"--sizes: {size} chunks is less than the shipped corpus alone ({info.shipped_chunks} chunks)"
                )
            corpus["description"] = (
                f"shipped corpus ({info.shipped_documents} documents, {info.shipped_chunks} chunks) + "
                f"{info.distractor_documents} synthetic distractor documents ({info.distractor_chunks} chunks)"
            )
        built = _child("ours-index", work, size, rounds)
        built |= _child("ours-open", work, size, rounds)
        methods: dict[str, dict[str, Any]] = {}
        for mode in OUR_MODES:
            methods[mode] = {**built, **_child("ours-query", work, size, rounds, mode)}
        lc_built = _child("langchain-index", work, size, rounds)
        methods["langchain"] = {**lc_built, **_child("langchain-query", work, size, rounds)}
        corpus["documents"] = built["documents"]
        corpus["chunks"] = built["chunks"]
        return {"corpus": corpus, "methods": methods, "ratios": ratios(methods)}


RATIO_FIELDS: dict[str, Callable[[dict[str, Any]], float]] = {
    "recall@5": lambda m: m["metrics"]["all"]["recall@5"],
    "mrr@10": lambda m: m["metrics"]["all"]["mrr@10"],
    "index_s": lambda m: m["index_s"],
    "p50_ms": lambda m: m["p50_ms"],
    "p95_ms": lambda m: m["p95_ms"],
    "query_peak_mb": lambda m: m["query_peak_mb"],
    "index_peak_mb": lambda m: m["index_peak_mb"],
}


def ratios(methods: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each method's figures divided by hybrid's (1.0 = same as hybrid)."""
    base = methods["hybrid"]
    out: dict[str, dict[str, float | None]] = {}
    for name, method in methods.items():
        out[name] = {}
        for field, get in RATIO_FIELDS.items():
            denominator = get(base)
            out[name][field] = round(get(method) / denominator, 3) if denominator else None
    return out


def _cell(value: Any, ratio: float | None, show_ratio: bool, fmt: str) -> str:
    text = format(value, fmt)
    if show_ratio and ratio is not None:
        text += f" ({ratio:.2f}x)"
    return text


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| size | method | chunks | recall@5 | MRR@10 | index s | open s | query p50 ms | query p95 ms "
        "| peak MB index / query |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in report["sizes"]:
        size = entry["corpus"]["size"]
        for name in METHODS:
            m = entry["methods"][name]
            r = entry["ratios"][name]
            show = name != "hybrid"
            index = _cell(m["index_s"], r["index_s"], name == "langchain", ".1f")
            if name in ("hybrid+deal", "bm25", "dense"):
                index += " (shared)"
            opened = f"{m['first_open_s']:.2f} / {m['open_s']:.2f}" if "first_open_s" in m else f"{m['open_s']:.2f}"
            peak = f"{m['index_peak_mb']} / {_cell(m['query_peak_mb'], r['query_peak_mb'], show, 'd')}"
            lines.append(
                f"| {size} | {name} | {m['chunks']} "
                f"| {_cell(m['metrics']['all']['recall@5'], r['recall@5'], show, '.3f')} "
                f"| {_cell(m['metrics']['all']['mrr@10'], r['mrr@10'], show, '.3f')} "
                f"| {index} | {opened} "
                f"| {_cell(m['p50_ms'], r['p50_ms'], show, '.1f')} "
                f"| {_cell(m['p95_ms'], r['p95_ms'], show, '.1f')} | {peak} |"
            )
    notes = [
        "",
        "(N.NNx) = this method's figure / hybrid's on the same corpus.",
        "hybrid+deal, bm25 and dense search the hybrid index (with the gold query's scenario as the deal's, or in a "
        "single-method mode): one index build, one index time for the four.",
        "open s: ours first open after indexing (reads every chunk, builds BM25, saves the snapshot cache) / a later "
        "open (the cached snapshot); langchain's Chroma opens lazily: its first query (warm-up) loads the index.",
    ]
    for entry in report["sizes"]:
        corpus = entry["corpus"]
        notes.append(
            f"{corpus['size']}: {corpus['description']}; {corpus['documents']} documents, {corpus['chunks']} chunks."
        )
    notes += [
        f"Quality: the {report['queries']} gold queries of evals/datasets/retrieval.jsonl at every size "
        "(synthetic sizes keep the whole shipped corpus, so every relevant document is there). The distractors reuse "
        "the corpus's sentences verbatim, some the very sentence that answers a query: hard negatives, so quality "
        "at synthetic sizes is a lower bound.",
        f"langchain: RecursiveCharacterTextSplitter({LANGCHAIN_CHUNK_CHARS} chars, {LANGCHAIN_OVERLAP_CHARS} "
        f"overlap) per document and language, Chroma.from_documents with the same USE embedder, "
        f"similarity_search(k={LANGCHAIN_K}), first hit per document.",
        f"Latency: {report['rounds']} rounds of the gold queries after a warm-up; top {RANK_DEPTH} documents; "
        "the query's embedding is computed every time (embedder cache off).",
        f"Machine: {report['machine']['cores']} cores, Python {report['machine']['python']}.",
    ]
    return "\n".join(lines + notes)


def _parse_sizes(parser: argparse.ArgumentParser, text: str) -> list[str]:
    sizes = [s.strip() for s in text.split(",") if s.strip()]
    for size in sizes:
        if size != "gold" and not re.fullmatch(r"[1-9]\d*", size):
            parser.error(f"--sizes: {size!r} is neither 'gold' nor a chunk count")
    if not sizes:
        parser.error("--sizes: no size given")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="gold,10000,100000", help="comma list: gold and/or chunk counts")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="timed rounds over the gold queries")
    parser.add_argument("--tmp", type=Path, help="where to build the temporary indexes (default: the system's)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(run_step(args)))
        return 0
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    sizes = _parse_sizes(parser, args.sizes)
    from evals.retrieval import default_dataset, load_gold

    report: dict[str, Any] = {
        "queries": len(load_gold(default_dataset())),
        "rounds": args.rounds,
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "sizes": [run_size(size, args.rounds, args.tmp) for size in sizes],
    }
    table = markdown(report)
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
