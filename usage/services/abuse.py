"""Abuse signals: blocked prompts and high-cost calls per user, and staff clearing the flags.

Events are counted in a per-user Redis sliding window; enough of one kind within the window
raises one open AbuseFlag, which stays until staff clear it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization, User
from accounts.redis import redis_sync
from accounts.services import audit_log_record
from usage.models import AbuseFlag, AbuseKind

logger = logging.getLogger(__name__)


def abuse_record_blocked_prompt(
    *, org: Organization, user: User | None, now: datetime | None = None
) -> AbuseFlag | None:
    """Count a blocked prompt; returns the flag this event raised, else None.

    ABUSE_BLOCKED_THRESHOLD (5) blocked prompts within ABUSE_WINDOW_SECONDS (600) raise one
    open flag; while it is open further events raise nothing new.
    """
    threshold = settings.ABUSE_BLOCKED_THRESHOLD
    user_id = user.pk if user is not None else None
    return _abuse_event(
        org=org, user_id=user_id, kind=AbuseKind.BLOCKED_PROMPTS, threshold=threshold, now=now
    )


def abuse_record_high_cost_call(
    *, org: Organization, user_id: int | None, display_cost: Decimal, now: datetime | None = None
) -> AbuseFlag | None:
    """Count a call costing ABUSE_HIGH_COST_CREDITS (200) or more; returns the flag raised.

    ABUSE_HIGH_COST_THRESHOLD (5) such calls within the window raise one open flag.
    """
    if display_cost < Decimal(settings.ABUSE_HIGH_COST_CREDITS):
        return None
    threshold = settings.ABUSE_HIGH_COST_THRESHOLD
    return _abuse_event(
        org=org, user_id=user_id, kind=AbuseKind.HIGH_COST, threshold=threshold, now=now
    )


def abuse_flag_clear(*, flag: AbuseFlag, actor: User, now: datetime | None = None) -> AbuseFlag:
    """Staff clear an open flag once, audited as `abuse_flag.clear`; clearing twice is a no-op.

    The user's event window restarts too, so the next event does not re-raise it at once.
    """
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff can clear abuse flags.")
    with transaction.atomic():
        locked = (
            AbuseFlag.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=flag.pk)
        )
        if locked.cleared_at is not None:
            return locked
        locked.cleared_at = now or timezone.now()
        locked.cleared_by = actor
        locked.save(update_fields=["cleared_at", "cleared_by"])
        audit_log_record(
            actor=actor,
            org=locked.organization,
            action="abuse_flag.clear",
            target=str(locked),
            before={"cleared_at": None},
            after={"cleared_at": locked.cleared_at.isoformat()},
        )
        key = _abuse_key(org_id=locked.organization_id, user_id=locked.user_id, kind=locked.kind)
        transaction.on_commit(lambda: redis_sync().delete(key), robust=True)
    return locked


def _abuse_event(
    *, org: Organization, user_id: int | None, kind: str, threshold: int, now: datetime | None
) -> AbuseFlag | None:
    if user_id is None:
        return None
    try:
        count = _abuse_count(org=org, user_id=user_id, kind=kind, now=now or timezone.now())
    except redis.RedisError:
        logger.warning("Abuse counter unavailable; %s event not counted", kind, exc_info=True)
        return None
    if count < threshold:
        return None
    window_minutes = settings.ABUSE_WINDOW_SECONDS // 60
    detail = f"{count} {AbuseKind(kind).label.lower().removeprefix('repeated ')}"
    return _abuse_flag_raise(
        org=org, user_id=user_id, kind=kind, detail=f"{detail} in {window_minutes} minutes"
    )


def _abuse_count(*, org: Organization, user_id: int, kind: str, now: datetime) -> int:
    """Add one event to the user's sliding window (a Redis sorted set) and count it."""
    window = settings.ABUSE_WINDOW_SECONDS
    key = _abuse_key(org_id=org.pk, user_id=user_id, kind=kind)
    score = now.timestamp()
    pipe = redis_sync().pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", score - window)
    pipe.zadd(key, {uuid4().hex: score})
    pipe.zcard(key)
    pipe.expire(key, window)
    results: list[Any] = pipe.execute()
    return int(results[2])


def _abuse_flag_raise(
    *, org: Organization, user_id: int, kind: str, detail: str
) -> AbuseFlag | None:
    open_flags = AbuseFlag.objects.for_org(org).filter(user_id=user_id, kind=kind, cleared_at=None)
    if open_flags.exists():
        return None
    try:
        with transaction.atomic():
            return AbuseFlag.objects.create(
                organization=org, user_id=user_id, kind=kind, detail=detail
            )
    except IntegrityError:
        # Another worker raised it first: the partial unique index allows one open flag.
        if open_flags.exists():
            return None
        raise


def _abuse_key(*, org_id: int, user_id: int, kind: str) -> str:
    return django_cache.make_key(f"abuse:{kind}:{org_id}:{user_id}")
