"""Synthetic corpora for the retrieval benchmarks, built from the shipped corpus's own sentences.

Two writers:

- `write_synthetic_corpus`: only synthetic documents, 10 short sections per
  language (bench/retrieval_bench.py indexes them with small chunks, so one
  section is one chunk). Speed only: no gold query has an answer in it.
- `write_distracted_corpus`: the shipped corpus PLUS synthetic distractor
  documents up to a chunk count, at the product's default chunk size. Every
  gold query of evals/datasets/retrieval.jsonl still has its relevant
  documents, so recall and MRR are measurable at 10k or 100k chunks; the
  distractors recombine the corpus's own sentences, so they share its
  vocabulary and compete for the same words and topics.

Nothing is mocked: the documents are Markdown files that go through the real
loader, chunker, embedder, Chroma store and BM25.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from copilot import paths
from copilot.corpus.loader import load_corpus
from copilot.index.indexer import chunk_document
from copilot.text.chunking import Chunker, split_sentences
from copilot.vocabulary import SCENARIOS

SCENARIO_KEYS = list(SCENARIOS)
REGIONS = ["cn", "eu", "us", "global"]
SYNTHETIC_CHUNK_TOKENS = 96
CHUNKS_PER_DOC = 20  # 10 per language
SECTIONS_PER_LANG = 10
MIN_SENTENCE_CHARS = 20


@dataclass(frozen=True)
class DistractedCorpus:
    """What `write_distracted_corpus` wrote, as counted by the product's own chunker."""

    root: Path
    shipped_documents: int
    shipped_chunks: int
    distractor_documents: int
    distractor_chunks: int

    @property
    def chunks(self) -> int:
        return self.shipped_chunks + self.distractor_chunks


def corpus_sentences(corpus_dir: Path | None = None) -> tuple[list[str], list[str]]:
    """The Chinese and English sentences of a corpus (default: the shipped one), headings left out."""
    zh: list[str] = []
    en: list[str] = []
    for doc in load_corpus(corpus_dir or paths.corpus_dir()).documents:
        for lang, bucket in (("zh", zh), ("en", en)):
            for sentence in split_sentences(doc.sections[lang]):
                if len(sentence) > MIN_SENTENCE_CHARS and not sentence.startswith("#"):
                    bucket.append(sentence)
    return zh, en


def _document(n: int, scenario: str, region: str, zh_sections: list[str], en_sections: list[str]) -> str:
    parts = [
        "---",
        f"id: syn-{n:06d}",
        "type: case",
        f"title_zh: 合成案例 {n}",
        f"title_en: Synthetic case {n}",
        f"scenarios: [{scenario}]",
        f"regions: [{region}]",
        "sources:",
        "  - title: synthetic",
        "    url: https://example.org/synthetic",
        "updated: 2026-11-24",
        "---",
        "",
        "## 中文",
    ]
    for s, text in enumerate(zh_sections):
        parts += [f"### 段落 {s}", text, ""]
    parts.append("## English")
    for s, text in enumerate(en_sections):
        parts += [f"### Section {s}", text, ""]
    return "\n".join(parts)


def write_synthetic_corpus(root: Path, chunks: int, seed: int = 7) -> None:
    """Documents of 10 short sections per language, each section about one chunk of SYNTHETIC_CHUNK_TOKENS."""
    rng = random.Random(seed)
    zh, en = corpus_sentences()
    docs = max(1, chunks // CHUNKS_PER_DOC)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    for n in range(docs):
        text = _document(
            n,
            SCENARIO_KEYS[n % len(SCENARIO_KEYS)],
            rng.choice(REGIONS),
            ["".join(rng.sample(zh, 2)) for _ in range(SECTIONS_PER_LANG)],
            [" ".join(rng.sample(en, 2)) for _ in range(SECTIONS_PER_LANG)],
        )
        (root / "cases" / f"syn-{n:06d}.md").write_text(text, encoding="utf-8")


class _SectionMaker:
    """Sections of recombined sentences sized to be one chunk each at `max_tokens`.

    A section longer than half the chunk bound is never packed with its
    neighbour, and one shorter than the bound is never split, so each section
    is exactly one chunk: the chunk count of a document is known before indexing.
    """

    def __init__(self, sentences: list[str], joiner: str, chunker: Chunker, rng: random.Random) -> None:
        self.joiner = joiner
        self.rng = rng
        self.chunker = chunker
        bound = chunker.max_tokens
        self.low = bound // 2 + 16
        self.high = bound - 16
        self.pool = [(s, chunker.count(s)) for s in sentences]
        self.pool = [(s, n) for s, n in self.pool if n < self.high - 8]

    def make(self) -> str:
        chosen: list[str] = []
        size = 0
        for _attempt in range(200):
            sentence, n = self.rng.choice(self.pool)
            if size + n > self.high:
                continue
            chosen.append(sentence)
            size += n
            if size >= self.low:
                break
        return self.joiner.join(chosen)


def _copy_corpus(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("README.md", "audit-allowlist.yaml"))


def write_distracted_corpus(
    root: Path,
    chunks: int,
    *,
    max_tokens: int = 320,
    encoding: str = "cl100k_base",
    seed: int = 7,
) -> DistractedCorpus:
    """The shipped corpus plus distractor documents, about `chunks` chunks in all at `max_tokens` per chunk.

    `max_tokens` and `encoding` must be the index's settings (chunk_max_tokens,
    tokenizer_encoding) for the counts to match the index.
    """
    source = paths.corpus_dir()
    _copy_corpus(source, root)
    chunker = Chunker(max_tokens, encoding)
    shipped = load_corpus(root).documents
    shipped_chunks = sum(len(chunk_document(doc, chunker, "")) for doc in shipped)

    rng = random.Random(seed)
    zh, en = corpus_sentences(source)
    zh_maker = _SectionMaker(zh, "", chunker, rng)
    en_maker = _SectionMaker(en, " ", chunker, rng)
    folder = root / "synthetic"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    written = 0
    while shipped_chunks + written < chunks:
        per_lang = min(SECTIONS_PER_LANG, max(1, (chunks - shipped_chunks - written) // 2))
        text = _document(
            n,
            SCENARIO_KEYS[n % len(SCENARIO_KEYS)],
            rng.choice(REGIONS),
            [zh_maker.make() for _ in range(per_lang)],
            [en_maker.make() for _ in range(per_lang)],
        )
        (folder / f"syn-{n:06d}.md").write_text(text, encoding="utf-8")
        written += 2 * per_lang
        n += 1
    return DistractedCorpus(
        root=root,
        shipped_documents=len(shipped),
        shipped_chunks=shipped_chunks,
        distractor_documents=n,
        distractor_chunks=written,
    )
