"""The embedders: wordllama offline from its wheel, and an OpenAI-compatible /v1/embeddings
over real HTTP (our simulator)."""

from __future__ import annotations

import asyncio
import socket

import numpy as np
import pytest

from routing.cache.embedders import (
    EmbedderError,
    OpenAIEmbedder,
    WordLlamaEmbedder,
    cosine,
    embedder_get,
)
from routing.models import EMBEDDING_DIMENSIONS


def test_wordllama_loads_from_its_package_with_downloads_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedder tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    embedder = WordLlamaEmbedder()

    vector = embedder.embed_now("How do I reverse a string in Python?")

    assert len(vector) == EMBEDDING_DIMENSIONS
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-6
    assert cosine(vector, embedder.embed_now("How can I reverse a string in Python?")) > 0.92
    assert cosine(vector, embedder.embed_now("Who founded Microsoft?")) < 0.6


def test_the_default_embedder_is_wordllama() -> None:
    assert embedder_get().name == "wordllama"


def test_an_openai_compatible_endpoint_embeds_over_http(simulator_url: str) -> None:
    embedder = OpenAIEmbedder(
        url=f"{simulator_url}/v1", model="text-embedding-3-small", key_env="", timeout=5
    )

    async def embed() -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        try:
            return (
                await embedder.embed("hello there"),
                await embedder.embed("hello there"),
                await embedder.embed("something else"),
            )
        finally:
            await embedder.aclose()

    one, again, other = asyncio.run(embed())

    assert len(one) == EMBEDDING_DIMENSIONS  # asked for our dimensions, not the model's own
    assert abs(float(np.linalg.norm(one)) - 1) < 1e-6
    assert one == again
    assert cosine(one, other) < 0.99


def test_an_endpoint_that_fails_is_an_embedder_error_not_a_crash(simulator_url: str) -> None:
    missing = OpenAIEmbedder(url=f"{simulator_url}/nowhere", model="m", key_env="", timeout=2)
    closed = OpenAIEmbedder(url="http://127.0.0.1:9/v1", model="m", key_env="", timeout=2)

    async def embed(embedder: OpenAIEmbedder) -> None:
        try:
            await embedder.embed("hello")
        finally:
            await embedder.aclose()

    for embedder in (missing, closed):
        with pytest.raises(EmbedderError):
            asyncio.run(embed(embedder))
