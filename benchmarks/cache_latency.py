"""The lookup's latency at 1k, 10k and 100k entries in one organisation: exact (Valkey) and
semantic (pgvector HNSW), through `cache_lookup` on the chat path's async connection, as a
request runs it. Entries are synthetic prompts embedded by wordllama, in a scratch
organisation deleted at the end."""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import time
import uuid
from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Organization
from accounts.redis import redis_async, redis_async_close, redis_sync
from chat.db import hot_pool_close, hot_run
from routing.cache.embedders import WordLlamaEmbedder, vector_literal
from routing.cache.entries import CachedAnswer
from routing.cache.guards import guard_features
from routing.cache.keys import cache_text, count_key, prompt_digest
from routing.cache.lookup import CacheKey, CacheResult, cache_lookup
from routing.models import AIModel

SCOPE = "b" * 64
QUERIES = 200
_SUBJECTS = ["a list", "a string", "a file", "a date", "a table", "an image", "a number",
             "a queue", "a graph", "a tree", "a matrix", "a socket", "a thread", "a cookie"]  # fmt: skip
_VERBS = ["sort", "parse", "copy", "compress", "validate", "format", "hash", "print", "merge",
          "split", "test", "debug", "rename", "measure", "render", "serialise", "cache"]  # fmt: skip
_TOOLS = ["Python", "Go", "Rust", "Java", "Ruby", "SQL", "Bash", "Kotlin", "Swift", "PHP",
          "Elixir", "Haskell", "C#", "Lua", "Perl", "Dart", "Scala", "Julia"]  # fmt: skip
_ASKS = ["How do I {v} {s} in {t}", "What is the fastest way to {v} {s} with {t}",
         "Show me how to {v} {s} using {t}", "Why does {t} fail when I {v} {s}",
         "Explain how to {v} {s} in {t} for a beginner"]  # fmt: skip


def prompts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data
    out = set()
    while len(out) < n:
        ask = rng.choice(_ASKS).format(
            v=rng.choice(_VERBS), s=rng.choice(_SUBJECTS), t=rng.choice(_TOOLS)
        )
        out.add(f"{ask} (case {rng.randrange(10**6)})")
    return sorted(out)


def insert(
    org: Organization, model: AIModel, texts: list[str], embedder: WordLlamaEmbedder
) -> None:
    expires = (timezone.now() + timedelta(days=1)).isoformat()
    buffer = io.StringIO()
    for text in texts:
        vector = vector_literal(embedder.embed_now(cache_text(text)))
        buffer.write(
            f"{org.pk}\t{SCOPE}\t{prompt_digest(text)}\t{vector}\t{{}}\tanswer\t{model.pk}\t10\t20\t{expires}\t0\t{expires}\n"
        )
    buffer.seek(0)
    columns = (
        "organization_id, scope, prompt_sha256, embedding, features, response, model_id, "
        "input_tokens, output_tokens, expires_at, hits, created_at"
    )
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY routing_semanticcacheentry ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())


async def measure(
    org: Organization, model: AIModel, stored: list[str], embedder: WordLlamaEmbedder
) -> dict[str, list[float]]:
    rng = random.Random(3)  # noqa: S311
    sample = rng.sample(stored, QUERIES)
    client = redis_async()
    await client.set(count_key(org.pk), len(stored))
    for text in sample:
        answer = CachedAnswer(0, "answer", model.pk, 10, 20, 1.0)
        key = _key(org, text, embedder)
        await client.set(key.exact, answer.as_json(), ex=3600)
    timings: dict[str, list[float]] = {"exact": [], "semantic": [], "semantic_hits": []}
    for text in sample:
        key = _key(org, text, embedder)
        started = time.perf_counter()
        found = await cache_lookup(key=key, run=hot_run, usable=lambda _: True, guards=False)
        timings["exact"].append((time.perf_counter() - started) * 1000)
        assert found.result == CacheResult.HIT_EXACT  # noqa: S101
        # A paraphrase: no exact key, so the nearest entry comes from pgvector.
        key = _key(org, f"Please, {text.lower()}?", embedder)
        started = time.perf_counter()
        found = await cache_lookup(key=key, run=hot_run, usable=lambda _: True, guards=False)
        timings["semantic"].append((time.perf_counter() - started) * 1000)
        timings["semantic_hits"].append(1.0 if found.hit else 0.0)
    await redis_async_close()
    await hot_pool_close()
    return timings


def _key(org: Organization, text: str, embedder: WordLlamaEmbedder) -> CacheKey:
    vector = embedder.embed_now(cache_text(text))
    return CacheKey(org.pk, SCOPE, prompt_digest(text), vector, guard_features(text))


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def latency(embedder: WordLlamaEmbedder, sizes: tuple[int, ...]) -> str:
    if not AIModel.objects.exists():
        call_command("seed_catalog", verbosity=0)
    model = AIModel.objects.order_by("id").first()
    assert model is not None  # noqa: S101
    org = Organization.objects.create(
        slug=f"bench-cache-{uuid.uuid4().hex[:8]}", name="Cache benchmark"
    )
    texts = prompts(max(sizes))
    lines = [
        "#### Lookup latency (ms added to a request: `cache_lookup` on the async connection)",
        "",
        f"{QUERIES} lookups per size, one organisation and scope holding that many entries. "
        "Exact: the stored prompt (Valkey hit). Semantic: a reworded prompt (no exact key, so "
        "Valkey then the pgvector query); HNSW from 5,000 entries, an exact scan below.",
        "",
        "| entries | exact median | exact p95 | semantic median | semantic p95 | reworded prompt served (default threshold) |",
        "|---|---|---|---|---|---|",
    ]
    try:
        done = 0
        for size in sizes:
            started = time.perf_counter()
            insert(org, model, texts[done:size], embedder)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE routing_semanticcacheentry")
            load_s = time.perf_counter() - started
            done = size
            t = asyncio.run(measure(org, model, texts[:size], embedder))
            lines.append(
                f"| {size:,} | {statistics.median(t['exact']):.2f} | {_p(t['exact'], 0.95):.2f} "
                f"| {statistics.median(t['semantic']):.2f} | {_p(t['semantic'], 0.95):.2f} "
                f"| {100 * statistics.mean(t['semantic_hits']):.0f}% |"
            )
            print(f"{size:,} entries loaded in {load_s:.1f} s; {lines[-1]}")
    finally:
        org.delete()
        redis_sync().delete(count_key(org.pk))
    return "\n".join(lines)
