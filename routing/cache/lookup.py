"""The lookup on the request path and the store after an answer.

Order: the exact key in Valkey (one MGET that also reads the organisation's entry count),
then the nearest entry of the same organisation and scope in pgvector, served only above the
threshold and past the guards. `CacheLookup.result` is what a metric counts
(`switchboard_cache_lookups_total{result}`): hit_exact, hit_semantic, miss, guarded, skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.redis import redis_async
from accounts.sql import Sql
from routing.cache.embedders import Vector, vector_literal
from routing.cache.entries import (
    HNSW_FROM,
    CachedAnswer,
    entry_evict_sql,
    entry_insert_sql,
    nearest_parse,
    nearest_sql,
)
from routing.cache.guards import GuardFeatures, guard_refusal
from routing.cache.keys import count_key, exact_key
from routing.cache.verifier import verifier_get

SqlRunner = Callable[[Sql], Awaitable[tuple[Any, ...] | None]]
SqlRowsRunner = Callable[[Sql], Awaitable[list[tuple[Any, ...]]]]


class CacheResult(StrEnum):
    HIT_EXACT = "hit_exact"
    HIT_SEMANTIC = "hit_semantic"
    MISS = "miss"
    GUARDED = "guarded"  # a candidate above the threshold that a guard refused
    SKIPPED = "skipped"  # not looked up: opted out, no-cache, not a first turn, ...


@dataclass(frozen=True)
class CacheKey:
    """One prompt in one organisation and scope, embedded once for the lookup and the store."""

    org_id: int
    scope: str  # CacheScope.digest()
    prompt_sha256: str  # of keys.cache_text(prompt)
    vector: Vector
    features: GuardFeatures

    @property
    def exact(self) -> str:
        return exact_key(org_id=self.org_id, scope=self.scope, prompt=self.prompt_sha256)


@dataclass(frozen=True)
class CacheLookup:
    result: CacheResult
    answer: CachedAnswer | None = None
    similarity: float | None = None  # the nearest candidate's, when there was one
    guard: str | None = None  # why a guard refused the candidate
    why_skipped: str = ""

    @property
    def hit(self) -> bool:
        return self.answer is not None


SKIPPED = CacheLookup(CacheResult.SKIPPED)
_CLAIM_SECONDS = 30  # a store that died holding its claim lets the next one try after this


async def cache_lookup(
    *,
    key: CacheKey,
    run: SqlRunner,
    usable: Callable[[int], bool],
    threshold: float | None = None,
    guards: bool | None = None,
    verifier: bool | None = None,
) -> CacheLookup:
    """Exact, then semantic. `usable(model_id)` says whether an entry's model may answer
    this request now (active in the catalog and allowed by the plan). A candidate under
    the threshold is served only where the verifier is on and agrees (verifier.py)."""
    threshold = settings.SEMANTIC_CACHE_THRESHOLD if threshold is None else threshold
    guards = settings.SEMANTIC_CACHE_GUARDS if guards is None else guards
    verifier = settings.SEMANTIC_CACHE_VERIFIER if verifier is None else verifier
    raw, count = await redis_async().mget([key.exact, count_key(key.org_id)])
    exact = CachedAnswer.of_json(str(raw)) if raw else None
    if exact is not None and usable(exact.model_id):
        return CacheLookup(CacheResult.HIT_EXACT, exact, similarity=1.0)
    sql = nearest_sql(
        org_id=key.org_id,
        scope=key.scope,
        vector=vector_literal(key.vector),
        use_index=int(count or 0) >= HNSW_FROM,
    )
    found = nearest_parse(await run(sql))
    if found is None:
        return CacheLookup(CacheResult.MISS)
    answer, features = found
    below = answer.similarity < threshold
    if below and not (verifier and answer.similarity >= verifier_get().floor):
        return CacheLookup(CacheResult.MISS, similarity=answer.similarity)
    if not usable(answer.model_id):
        return CacheLookup(CacheResult.MISS, similarity=answer.similarity)
    refusal = guard_refusal(key.features, features) if guards else None
    if refusal is not None:
        return CacheLookup(CacheResult.GUARDED, similarity=answer.similarity, guard=refusal)
    if below and not verifier_get().agrees(answer.similarity, key.features, features):
        return CacheLookup(CacheResult.MISS, similarity=answer.similarity, guard="verifier")
    return CacheLookup(CacheResult.HIT_SEMANTIC, answer, similarity=answer.similarity)


async def cache_store(
    *,
    key: CacheKey,
    response: str,
    model_id: int,
    input_tokens: int,
    output_tokens: int,
    run: SqlRunner,
    run_rows: SqlRowsRunner,
) -> int | None:
    """Keep an answer for its organisation and scope; returns the entry's id, or None when
    the prompt is already kept or being kept (two requests that missed at once store it
    once; an exact key whose model this asker may not use also stops it, which costs a
    later hit, never a wrong one). Past the organisation's cap the oldest entries are
    evicted (see entries._EVICT)."""
    client = redis_async()
    claim = f"{key.exact}:storing"
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(claim, "1", nx=True, ex=_CLAIM_SECONDS)
        pipe.exists(key.exact)
        claimed, kept = await pipe.execute()
    if not claimed or kept:
        return None
    try:
        return await _insert(key, response, model_id, input_tokens, output_tokens, run, run_rows)
    finally:
        await client.delete(claim)


async def _insert(
    key: CacheKey,
    response: str,
    model_id: int,
    input_tokens: int,
    output_tokens: int,
    run: SqlRunner,
    run_rows: SqlRowsRunner,
) -> int:
    ttl = int(settings.SEMANTIC_CACHE_TTL_SECONDS)
    row = await run(
        entry_insert_sql(
            org_id=key.org_id,
            scope=key.scope,
            prompt_sha256=key.prompt_sha256,
            vector=vector_literal(key.vector),
            features=key.features,
            response=response,
            model_id=model_id,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            expires_at=timezone.now() + timedelta(seconds=ttl),
        )
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    entry_id = int(row[0])
    answer = CachedAnswer(entry_id, response, model_id, input_tokens, output_tokens, 1.0)
    client = redis_async()
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(key.exact, answer.as_json(), ex=ttl)
        pipe.incr(count_key(key.org_id))
        _, count = await pipe.execute()
    cap = int(settings.SEMANTIC_CACHE_MAX_ENTRIES)
    if int(count) > cap:
        await _evict(key.org_id, keep=cap * 9 // 10, run_rows=run_rows)
    return entry_id


async def _evict(org_id: int, *, keep: int, run_rows: SqlRowsRunner) -> None:
    gone = await run_rows(entry_evict_sql(org_id=org_id, keep=keep))
    client = redis_async()
    keys = [exact_key(org_id=org_id, scope=s, prompt=p) for s, p in gone]
    async with client.pipeline(transaction=False) as pipe:
        if keys:
            pipe.delete(*keys)
        pipe.set(count_key(org_id), keep)
        await pipe.execute()
