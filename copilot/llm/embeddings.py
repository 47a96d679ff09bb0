"""Embeddings from an OpenAI-compatible /embeddings endpoint (the optional non-offline embedder)."""

from __future__ import annotations


def embed_with_endpoint(
    texts: list[str], *, model: str, base_url: str | None, api_key: str | None, batch: int = 64
) -> list[list[float]]:
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key=api_key or "not-needed")
    vectors: list[list[float]] = []
    for start in range(0, len(texts), batch):
        response = client.embeddings.create(model=model, input=texts[start : start + batch])
        vectors.extend(item.embedding for item in response.data)
    return vectors
