"""Heartbeats of the background processes, kept in Redis for the readiness view: beat's
own heartbeat task, and the reconciler's last finished run."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from accounts.redis import redis_sync

KEY = "sb:heartbeat:"
BEAT = "beat"
RECONCILER = "reconciler"


def heartbeat_record(name: str, *, now: datetime | None = None) -> None:
    """Note that `name` ran now (kept a day, so a long-dead process reads as never)."""
    at = now or timezone.now()
    redis_sync().set(KEY + name, at.isoformat(), ex=86_400)


def heartbeat_age(name: str, *, now: datetime | None = None) -> timedelta | None:
    """How long ago `name` last ran; None when it never did (or not for a day)."""
    value = redis_sync().get(KEY + name)
    if value is None:
        return None
    return (now or timezone.now()) - datetime.fromisoformat(str(value))
