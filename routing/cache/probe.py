"""`manage.py cache_probe`: how the cache would treat pairs of prompts, for tuning the
threshold on an operator's own traffic. Each pair's `a` is stored in a scratch
organisation's cache as if answered, `b` is looked up exactly as a request would, and the
scratch organisation (with its entries) is removed at the end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection

from accounts.models import Organization
from accounts.redis import redis_async_close
from accounts.sql import Sql, sql_run
from routing.cache.embedders import Embedder, embedder_get
from routing.cache.entries import cache_clear
from routing.cache.guards import guard_features
from routing.cache.keys import cache_text, prompt_digest
from routing.cache.lookup import CacheKey, CacheResult, cache_lookup, cache_store
from routing.models import AIModel

PROBE_SCOPE = "0" * 64


class ProbeLineError(ValueError):
    def __init__(self, message: str, pair_id: Any = None) -> None:
        super().__init__(message)
        self.pair_id = pair_id


def probe_parse(line: str) -> tuple[Any, str, str]:
    """(id, a, b) of one JSON line; ProbeLineError names what is wrong."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise ProbeLineError(f"malformed JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(item, dict):
        raise ProbeLineError("each line must be a JSON object")
    for field in ("a", "b"):
        if not isinstance(item.get(field), str) or not item[field].strip():
            raise ProbeLineError(f"{field}: a non-empty string is required", item.get("id"))
    return item.get("id"), item["a"], item["b"]


def cache_probe(
    lines: Iterable[str],
    *,
    threshold: float | None = None,
    guards: bool | None = None,
    verifier: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """One result per non-empty line: {"id", "hit", "similarity", "guard"}, or {"id",
    "error"} for a line that cannot be read. Leaves nothing behind."""
    model = AIModel.objects.order_by("id").first()
    if model is None:
        raise ProbeLineError("no model in the catalog: run `manage.py seed_catalog` first")
    org = Organization.objects.create(
        slug=f"cache-probe-{uuid.uuid4().hex[:12]}", name="Cache probe (scratch)"
    )
    embedder = embedder_get()
    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                pair_id, a, b = probe_parse(line)
            except ProbeLineError as error:
                yield {"id": error.pair_id or f"line-{number}", "error": str(error)}
                continue
            options = {"threshold": threshold, "guards": guards, "verifier": verifier}
            result = async_to_sync(_probe)(org, model.pk, a, b, embedder, options)
            cache_clear(org=org)  # each pair on its own: a earlier pair never answers
            yield {"id": pair_id, **result}
    finally:
        cache_clear(org=org)
        org.delete()


async def _probe(
    org: Organization,
    model_id: int,
    a: str,
    b: str,
    embedder: Embedder,
    options: dict[str, Any],
) -> dict[str, Any]:
    try:
        stored = await _key(org, a, embedder)
        await cache_store(
            key=stored,
            response="(probe)",
            model_id=model_id,
            input_tokens=0,
            output_tokens=0,
            run=_run,
            run_rows=_rows,
        )
        found = await cache_lookup(
            key=await _key(org, b, embedder),
            run=_run,
            usable=lambda _: True,
            **options,
        )
    finally:
        await redis_async_close()
    hit = found.result in (CacheResult.HIT_EXACT, CacheResult.HIT_SEMANTIC)
    similarity = round(found.similarity, 4) if found.similarity is not None else None
    return {"hit": hit, "similarity": similarity, "guard": found.guard}


async def _key(org: Organization, text: str, embedder: Embedder) -> CacheKey:
    return CacheKey(
        org_id=org.pk,
        scope=PROBE_SCOPE,
        prompt_sha256=prompt_digest(text),
        vector=await embedder.embed(cache_text(text)),
        features=guard_features(text),
    )


@sync_to_async
def _run(sql: Sql) -> tuple[Any, ...] | None:
    return sql_run(sql)


@sync_to_async
def _rows(sql: Sql) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql.text, sql.params)
        return list(cursor.fetchall()) if cursor.description else []
