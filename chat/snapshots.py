"""Read-mostly data the chat path reuses for a few seconds instead of reading it per request.

The model catalog, live API keys, and per (organisation, user) the plan entitlement, abuse
flag and routing rules: staff changes, plan changes and key revocations reach every web
process within SNAPSHOT_TTL_SECONDS (0 turns the snapshots off). Credits are never
snapshotted; the chat reads its balance fresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings

from accounts.models import ApiKey, Organization, User
from accounts.selectors import api_key_get_active, secret_sha256
from billing.selectors import entitlement_get
from billing.types import Entitlement
from chat.db import db_step
from routing.selectors import catalog_get, routing_rule_list
from routing.types import Catalog, RuleInfo
from usage.selectors import abuse_flag_open_for

T = TypeVar("T")
MAX_ENTRIES = 10_000  # (org, user) pairs per process before the cache starts over


@dataclass(frozen=True)
class TenantSnapshot:
    entitlement: Entitlement  # its credits_left is as old as the snapshot
    flagged: bool  # an open abuse flag tightens this user's limits
    rules: tuple[RuleInfo, ...]


class _Expiring(Generic[T]):
    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, T]] = {}

    def get(self, key: Hashable) -> T | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= settings.SNAPSHOT_TTL_SECONDS:
            return None
        return entry[1]

    def put(self, key: Hashable, value: T) -> T:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)
        return value

    def get_or_load(self, key: Hashable, load: Callable[[], T]) -> T:
        value = self.get(key)
        return value if value is not None else self.put(key, load())

    def clear(self) -> None:
        self._entries.clear()


_catalogs: _Expiring[Catalog] = _Expiring()
_tenants: _Expiring[TenantSnapshot] = _Expiring()
_api_keys: _Expiring[ApiKey] = _Expiring()


def catalog_snapshot() -> Catalog:
    """The active catalog (sync: call it inside a database step)."""
    return _catalogs.get_or_load("catalog", catalog_get)


async def tenant_snapshot(*, org: Organization, user: User) -> TenantSnapshot:
    """What `user` may do in `org`; no database step while the snapshot is fresh."""
    key = (org.pk, user.pk)
    snapshot = _tenants.get(key)
    if snapshot is None:
        snapshot = _tenants.put(key, await db_step(_tenant_load)(org, user))
    return snapshot


async def api_key_snapshot(*, secret: str) -> ApiKey | None:
    """The live key with this secret, with its organisation and user; None is not cached."""
    digest = secret_sha256(secret)
    key = _api_keys.get(digest)
    if key is None:
        key = await db_step(api_key_get_active)(secret=secret)
        if key is not None:
            _api_keys.put(digest, key)
    return key


def _tenant_load(org: Organization, user: User) -> TenantSnapshot:
    return TenantSnapshot(
        entitlement=entitlement_get(org=org, user=user),
        flagged=abuse_flag_open_for(org=org, user=user),
        rules=routing_rule_list(org=org),
    )


def snapshots_clear() -> None:
    """Forget every snapshot (tests, and a process that must see a change at once)."""
    _catalogs.clear()
    _tenants.clear()
    _api_keys.clear()
