"""Daily rollups: UsageDaily rows rebuilt from the billed records, one UTC day at a time.

Incremental: a day is rebuilt only when its records no longer match the build that made its
rows. Records are append-only, so a day's record count only grows, and a changed count is
exactly "a call arrived since" (a late call for a closed day included, whatever its id).
Idempotent: a rebuild replaces the day's rows in one transaction, so running it twice gives
the same rows; a per-(org, day) advisory lock keeps two concurrent runs from interleaving.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import Organization
from usage.finops import RECORD_DIMENSIONS, RECORD_FIGURES, records_on_days
from usage.models import UsageDaily, UsageDailyBuild

_LOCK_NAMESPACE = 0x5553_4400  # "USD\0": usage-daily advisory locks


def usage_daily_rollup(
    *, org: Organization, days: Iterable[date], now: datetime | None = None
) -> int:
    """Bring the rollups of `days` up to date with the records; returns how many days it
    rebuilt. Days before today only: today is always read live."""
    today = (now or timezone.now()).date()
    closed = sorted(day for day in set(days) if day < today)
    if not closed:
        return 0
    counts = _record_counts(org=org, days=closed)
    builds = dict(
        UsageDailyBuild.objects.for_org(org).filter(day__in=closed).values_list("day", "records")
    )
    stale = [day for day in closed if counts.get(day, 0) != builds.get(day, 0)]
    for day in stale:
        _day_rebuild(org=org, day=day, now=now or timezone.now())
    return len(stale)


def usage_daily_rollup_recent(*, now: datetime | None = None) -> int:
    """The beat job: re-check the last FINOPS_ROLLUP_LOOKBACK_DAYS closed days of every
    organisation (late calls land within minutes, the lookback is days). Safe to overlap."""
    now = now or timezone.now()
    today = now.date()
    days = [today - timedelta(days=n) for n in range(1, settings.FINOPS_ROLLUP_LOOKBACK_DAYS + 1)]
    return sum(
        usage_daily_rollup(org=org, days=days, now=now)
        for org in Organization.objects.order_by("pk")
    )


def _record_counts(*, org: Organization, days: list[date]) -> dict[date, int]:
    rows = records_on_days(org=org, days=days).values("day").annotate(n=Count("id")).order_by()
    return {row["day"]: row["n"] for row in rows}


def _day_rebuild(*, org: Organization, day: date, now: datetime) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_LOCK_NAMESPACE ^ org.pk, day.toordinal()],
            )
        # Read after the lock: a run that waited sees what the one before it committed.
        groups = list(
            records_on_days(org=org, days=[day])
            .values(*RECORD_DIMENSIONS.values())
            .annotate(**RECORD_FIGURES, last_id=Max("id"))
            .order_by()
        )
        UsageDaily.objects.for_org(org).filter(day=day).delete()
        UsageDaily.objects.bulk_create(_row(org=org, day=day, group=g) for g in groups)
        UsageDailyBuild.objects.update_or_create(
            organization=org,
            day=day,
            defaults={
                "records": sum(g["requests"] for g in groups),
                "last_record_id": max((g["last_id"] for g in groups), default=0),
                "built_at": now,
            },
        )


def _row(*, org: Organization, day: date, group: dict[str, Any]) -> UsageDaily:
    dimensions = {name: group[source] for name, source in RECORD_DIMENSIONS.items()}
    figures = {name: group[name] for name in RECORD_FIGURES}
    return UsageDaily(organization=org, day=day, **dimensions, **figures)
