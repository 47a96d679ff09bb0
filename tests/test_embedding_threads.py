"""The encoder runs BLAS on the configured number of threads (default 1).

Without threadpoolctl the encoder library silently skips its limit, and OpenBLAS runs every
small matrix product on all cores: measured on 2 cores, one short text cost ~45-135 ms of CPU
instead of ~4 ms, with bit-identical vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from copilot.index.embedding import UseEmbeddingFunction


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.mark.parametrize("threads", [1, 2])
def test_blas_threads_are_limited_while_encoding(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    embedder = UseEmbeddingFunction(threads=threads)
    embedder.encode(["warm up"])  # the model is loaded on first use
    backend: Any = embedder._encoder()._backend
    assert backend._threadpool is not None, "threadpoolctl is missing: the thread limit is not applied"
    seen: list[list[int]] = []
    original = backend._encode

    def spy(texts: list[str]) -> Any:
        seen.append(_blas_threads())
        return original(texts)

    monkeypatch.setattr(backend, "_encode", spy)
    vector = embedder.encode(["区块链溯源 traceability"])
    assert vector.shape == (1, 512) and np.isfinite(vector).all()
    assert seen and seen[0] and all(n == threads for n in seen[0])
