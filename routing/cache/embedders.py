"""Embedders, chosen by `SEMANTIC_CACHE_EMBEDDER`: `wordllama` (the default: a static model
shipped inside its wheel, loaded from the package's own folder with downloads disabled, so
nothing is fetched at run time) or `openai` (any OpenAI-compatible `/v1/embeddings`, such as
our simulator's). Every vector is unit length with EMBEDDING_DIMENSIONS components, so
pgvector's cosine distance compares vectors of either kind the same way.

See docs/benchmarks.md ("Semantic cache") for why wordllama: recall and false hits on the
development pairs, microseconds per prompt, install size and licence.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import numpy as np
from django.conf import settings

from routing.models import EMBEDDING_DIMENSIONS

Vector = tuple[float, ...]


class EmbedderError(Exception):
    """The embedder could not embed (an OpenAI-compatible endpoint failed): the request
    goes on uncached, never refused."""


class Embedder(Protocol):
    name: str

    async def embed(self, text: str) -> Vector: ...


class WordLlamaEmbedder:
    """wordllama's 256-dimension l2_supercat model, about 25 microseconds a short prompt."""

    name = "wordllama"

    def __init__(self) -> None:
        import wordllama  # a 0.1 s load: only when the cache is first used

        folder = Path(str(wordllama.__file__)).parent
        # Its plain load() looks for the tokenizer in the wrong folder and then downloads:
        # the package's own folder as cache_dir, with downloads off, finds both files.
        self.model = wordllama.WordLlama.load(
            cache_dir=folder, disable_download=True, dim=EMBEDDING_DIMENSIONS
        )

    def embed_now(self, text: str) -> Vector:
        vector = np.asarray(self.model.embed([text]), dtype=np.float64)[0]
        return unit(vector)

    async def embed(self, text: str) -> Vector:
        return self.embed_now(text)


class OpenAIEmbedder:
    """POST {url}/embeddings with `dimensions`, OpenAI's shape."""

    name = "openai"

    def __init__(self, *, url: str, model: str, key_env: str, timeout: float) -> None:
        self.url = url.rstrip("/") + "/embeddings"
        self.model, self.key_env = model, key_env
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    async def embed(self, text: str) -> Vector:
        body = {"model": self.model, "input": [text], "dimensions": EMBEDDING_DIMENSIONS}
        key = os.environ.get(self.key_env, "") if self.key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            async with self._session().post(self.url, json=body, headers=headers) as response:
                if response.status != 200:
                    raise EmbedderError(f"embeddings endpoint answered {response.status}")
                data: Any = await response.json()
            vector = np.asarray(data["data"][0]["embedding"], dtype=np.float64)
        except (aiohttp.ClientError, TimeoutError, KeyError, IndexError, ValueError) as error:
            raise EmbedderError(f"embeddings endpoint failed: {type(error).__name__}") from None
        if vector.shape != (EMBEDDING_DIMENSIONS,):
            raise EmbedderError(f"expected {EMBEDDING_DIMENSIONS} dimensions, got {vector.shape}")
        return unit(vector)

    async def aclose(self) -> None:
        """Close the running loop's session (when a loop ends: tests, the probe)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(timeout=self.timeout)
            self._sessions[loop] = session
        return session


def unit(vector: np.ndarray[Any, Any]) -> Vector:
    norm = float(np.linalg.norm(vector))
    return tuple((vector / norm if norm else vector).tolist())


def cosine(a: Vector, b: Vector) -> float:
    return float(np.dot(np.asarray(a), np.asarray(b)))


def vector_literal(vector: Vector) -> str:
    """pgvector's text form, so the hot connection needs no registered type."""
    return "[" + ",".join(f"{x:.7f}" for x in vector) + "]"


@cache
def embedder_get(kind: str | None = None) -> Embedder:
    """The configured embedder, built once per process."""
    kind = kind or settings.SEMANTIC_CACHE_EMBEDDER
    if kind == "openai":
        return OpenAIEmbedder(
            url=settings.SEMANTIC_CACHE_EMBEDDINGS_URL,
            model=settings.SEMANTIC_CACHE_EMBEDDINGS_MODEL,
            key_env=settings.SEMANTIC_CACHE_EMBEDDINGS_KEY_ENV,
            timeout=settings.SEMANTIC_CACHE_EMBEDDINGS_TIMEOUT,
        )
    return WordLlamaEmbedder()
