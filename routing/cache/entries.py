"""The entries' statements (built here, run by the chat path on its async connection or by
`sql_run`), and the sync services: invalidation, opt-out and eviction.

Every statement filters on the organisation: an entry is never read across tenants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from psycopg.types.json import Jsonb

from accounts.models import Organization, User
from accounts.redis import redis_sync
from accounts.services import audit_log_record, membership_require_manager
from accounts.sql import Sql
from routing.cache.guards import GuardFeatures
from routing.cache.keys import count_key, exact_key
from routing.models import AIModel, CachePolicy, SemanticCacheEntry


@dataclass(frozen=True)
class CachedAnswer:
    """An answer that may be served: what the hit's ModelCall and bill need."""

    entry_id: int
    response: str
    model_id: int
    input_tokens: int
    output_tokens: int
    similarity: float  # 1.0 for an exact hit

    def as_json(self) -> str:
        return json.dumps(
            {
                "entry_id": self.entry_id,
                "response": self.response,
                "model_id": self.model_id,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
            }
        )

    @classmethod
    def of_json(cls, raw: str) -> CachedAnswer | None:
        try:
            data = json.loads(raw)
            return cls(
                entry_id=int(data["entry_id"]),
                response=str(data["response"]),
                model_id=int(data["model_id"]),
                input_tokens=int(data["input_tokens"]),
                output_tokens=int(data["output_tokens"]),
                similarity=1.0,
            )
        except (ValueError, KeyError, TypeError):
            return None  # a value from an older release: a miss, never an error


# The nearest live entry of the organisation and scope whose model is still active.
# `+ 0` hides the distance from the HNSW index: for an organisation with few entries the
# (organization, scope) index and an exact scan are faster and miss nothing, where the
# approximate index would return the nearest entries of every organisation and filter after.
_NEAREST = """
SELECT e.id, e.response, e.model_id, e.input_tokens, e.output_tokens, e.features,
       1 - (e.embedding <=> %(vector)s::vector) AS similarity
FROM routing_semanticcacheentry e
JOIN routing_aimodel m ON m.id = e.model_id AND m.active
WHERE e.organization_id = %(org_id)s AND e.scope = %(scope)s AND e.expires_at > now()
ORDER BY (e.embedding <=> %(vector)s::vector){exact}
LIMIT 1
"""
_INSERT = """
INSERT INTO routing_semanticcacheentry (
    organization_id, scope, prompt_sha256, embedding, features, response, model_id,
    input_tokens, output_tokens, expires_at, hits, created_at
) VALUES (
    %(org_id)s, %(scope)s, %(prompt_sha256)s, %(vector)s::vector, %(features)s, %(response)s,
    %(model_id)s, %(input_tokens)s, %(output_tokens)s, %(expires_at)s, 0, now()
) RETURNING id
"""
_HIT = """
UPDATE routing_semanticcacheentry SET hits = hits + 1
WHERE id = %(entry_id)s AND organization_id = %(org_id)s
"""
# Past the cap, the expired entries go and then the oldest, down to 90% of the cap, so
# eviction runs once per tenth of the cap's inserts rather than at every one.
_EVICT = """
WITH doomed AS (
    SELECT id FROM routing_semanticcacheentry
    WHERE organization_id = %(org_id)s
    ORDER BY (expires_at > now()) DESC, created_at DESC, id DESC
    OFFSET %(keep)s
)
DELETE FROM routing_semanticcacheentry e USING doomed
WHERE e.id = doomed.id AND e.organization_id = %(org_id)s
RETURNING e.scope, e.prompt_sha256
"""
# Small organisations scan exactly (see _NEAREST); this many entries and more use HNSW.
HNSW_FROM = 5_000


def nearest_sql(*, org_id: int, scope: str, vector: str, use_index: bool) -> Sql:
    text = _NEAREST.format(exact="" if use_index else " + 0")
    return Sql(text, {"org_id": org_id, "scope": scope, "vector": vector})


def nearest_parse(row: tuple[Any, ...] | None) -> tuple[CachedAnswer, GuardFeatures] | None:
    if row is None:
        return None
    entry_id, response, model_id, input_tokens, output_tokens, features, similarity = row
    answer = CachedAnswer(entry_id, response, model_id, input_tokens, output_tokens, similarity)
    if isinstance(features, str):  # Django's connection leaves jsonb undecoded
        features = json.loads(features)
    return answer, GuardFeatures.of_json(features or {})


def entry_insert_sql(
    *,
    org_id: int,
    scope: str,
    prompt_sha256: str,
    vector: str,
    features: GuardFeatures,
    response: str,
    model_id: int,
    input_tokens: int,
    output_tokens: int,
    expires_at: datetime,
) -> Sql:
    params = {
        "org_id": org_id,
        "scope": scope,
        "prompt_sha256": prompt_sha256,
        "vector": vector,
        "features": Jsonb(features.as_json()),
        "response": response,
        "model_id": model_id,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "expires_at": expires_at,
    }
    return Sql(_INSERT, params)


def entry_hit_sql(*, org_id: int, entry_id: int) -> Sql:
    return Sql(_HIT, {"org_id": org_id, "entry_id": entry_id})


def entry_evict_sql(*, org_id: int, keep: int) -> Sql:
    return Sql(_EVICT, {"org_id": org_id, "keep": keep})


# Services on Django's connection ----------------------------------------------------------


def cache_invalidate_model(*, model: AIModel) -> int:
    """Remove every organisation's entries answered by `model` (deactivated, or its price
    changed), from PostgreSQL and Valkey; returns how many. Safe to run twice."""
    rows = SemanticCacheEntry.objects.filter(model=model)
    return _delete(list(rows.values_list("organization_id", "scope", "prompt_sha256")), rows)


def cache_entries_delete(*, rows: QuerySet[SemanticCacheEntry]) -> int:
    """Delete these entries (a staff purge) with their exact keys; returns how many."""
    keys = list(rows.values_list("organization_id", "scope", "prompt_sha256"))
    return _delete(keys, rows)


def cache_clear(*, org: Organization) -> int:
    """Remove the organisation's entries (opt-out, or a staff purge); returns how many."""
    rows = SemanticCacheEntry.objects.for_org(org)
    keys = [(org.pk, s, p) for s, p in rows.values_list("scope", "prompt_sha256")]
    redis_sync().delete(count_key(org.pk))
    return _delete(keys, rows)


def cache_policy_set(*, org: Organization, enabled: bool) -> CachePolicy:
    """Turn the organisation's cache on or off; off also removes its entries."""
    with transaction.atomic():
        policy, _ = CachePolicy.objects.for_org(org).update_or_create(
            organization=org, defaults={"enabled": enabled}
        )
    if not enabled:
        cache_clear(org=org)
    return policy


def cache_policy_set_by_member(*, org: Organization, actor: User, enabled: bool) -> CachePolicy:
    """An owner or admin turns their organisation's answer cache on or off (PermissionDenied
    for anyone else); a change is written to the audit log, a repeat of the same choice is
    not."""
    membership_require_manager(org=org, user=actor)
    before = cache_enabled_for(org=org)
    policy = cache_policy_set(org=org, enabled=enabled)
    if before != enabled:
        audit_log_record(
            actor=actor,
            org=org,
            action="cache_policy.enable" if enabled else "cache_policy.disable",
            target=f"answer cache of {org.slug}",
            before={"enabled": before},
            after={"enabled": enabled},
        )
    return policy


def cache_enabled_for(*, org: Organization) -> bool:
    """The organisation's choice (on unless it opted out)."""
    policy = CachePolicy.objects.for_org(org).values_list("enabled", flat=True).first()
    return True if policy is None else bool(policy)


def _delete(keys: list[tuple[int, str, str]], rows: QuerySet[SemanticCacheEntry]) -> int:
    count, _ = rows.delete()
    exact = [exact_key(org_id=o, scope=s, prompt=p) for o, s, p in keys]
    for start in range(0, len(exact), 500):
        redis_sync().delete(*exact[start : start + 500])
    return int(count)
