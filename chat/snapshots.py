"""What the chat path reuses for SNAPSHOT_TTL_SECONDS instead of reading it per request: the
model catalog, live API keys and, per (organisation, user), the plan entitlement, abuse flag
and routing rules. Credits are never snapshotted; each chat reads its balance fresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.authentication import api_key_authenticate, api_key_cached
from accounts.models import ApiKey, Organization, User
from accounts.services import api_key_touch_due
from accounts.snapshots import SnapshotCache, snapshots_clear
from billing.selectors import entitlement_get
from billing.types import Entitlement
from chat.db import db_step
from routing.cache.entries import cache_enabled_for
from routing.selectors import catalog_get, routing_rule_list
from routing.types import Catalog, RuleInfo
from usage.selectors import abuse_flag_open_for

__all__ = [
    "api_key_snapshot",
    "catalog_snapshot",
    "catalog_snapshot_async",
    "snapshots_clear",
    "tenant_snapshot",
    "tenant_snapshot_get",
]


@dataclass(frozen=True)
class TenantSnapshot:
    entitlement: Entitlement  # its credits_left is as old as the snapshot
    flagged: bool  # an open abuse flag tightens this user's limits
    rules: tuple[RuleInfo, ...]
    cache_enabled: bool = True  # the organisation has not opted out of the semantic cache


_catalogs: SnapshotCache[Catalog] = SnapshotCache(maxsize=1)
_tenants: SnapshotCache[TenantSnapshot] = SnapshotCache(maxsize=10_000)


def catalog_snapshot() -> Catalog:
    """The active catalog, for sync code."""
    return _catalogs.get("catalog") or _catalogs.put("catalog", catalog_get())


async def catalog_snapshot_async() -> Catalog:
    """The active catalog; no database step while the snapshot is fresh."""
    return _catalogs.get("catalog") or _catalogs.put("catalog", await db_step(catalog_get)())


async def tenant_snapshot(*, org: Organization, user: User) -> TenantSnapshot:
    """What `user` may do in `org`; no database step while the snapshot is fresh."""
    key = (org.pk, user.pk)
    return _tenants.get(key) or _tenants.put(key, await db_step(_tenant_load)(org, user))


def tenant_snapshot_get(*, org: Organization, user: User) -> TenantSnapshot:
    """`tenant_snapshot` for sync code (views, database steps)."""
    key = (org.pk, user.pk)
    return _tenants.get(key) or _tenants.put(key, _tenant_load(org, user))


async def api_key_snapshot(*, secret: str) -> ApiKey | None:
    """The live key with this secret, with its organisation and user; None is not cached."""
    key = api_key_cached(secret)
    if key is not None and not api_key_touch_due(key=key):
        return key
    return await db_step(api_key_authenticate)(secret)  # looks it up, or records its use


def _tenant_load(org: Organization, user: User) -> TenantSnapshot:
    return TenantSnapshot(
        entitlement=entitlement_get(org=org, user=user),
        flagged=abuse_flag_open_for(org=org, user=user),
        rules=routing_rule_list(org=org),
        cache_enabled=cache_enabled_for(org=org),
    )
