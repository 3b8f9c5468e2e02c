"""Read-mostly values a web process reuses for SNAPSHOT_TTL_SECONDS instead of reading them
per request: live API keys here, the catalog and each user's plan in the chat app.

A change (a revoked key, a new plan, a deactivated model) reaches every process within the
TTL; 0 turns reuse off. Entries are evicted by age and, past `maxsize`, least recently used.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache
from django.conf import settings

V = TypeVar("V")
_all: list[SnapshotCache[object]] = []


class SnapshotCache(Generic[V]):
    """A TTL cache whose TTL follows the setting (tests change it) and that threads can share."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._ttl = -1.0
        self._entries: TTLCache[Hashable, V] = TTLCache(maxsize, ttl=1)
        _all.append(self)  # type: ignore[arg-type]

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            return self._current().get(key)

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            entries = self._current()
            if self._ttl > 0:
                entries[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _current(self) -> TTLCache[Hashable, V]:
        ttl = float(settings.SNAPSHOT_TTL_SECONDS)
        if ttl != self._ttl:
            self._ttl = ttl
            self._entries = TTLCache(self._maxsize, ttl=max(ttl, 0.001))
        return self._entries


def snapshots_clear() -> None:
    """Forget every snapshot (tests, and a process that must see a change at once)."""
    for cache in _all:
        cache.clear()
