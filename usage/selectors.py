"""Reads over usage: what a tenant used (credits only), staff's model-call list, abuse flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from accounts.models import Organization, User
from billing.money import ZERO
from billing.selectors import credit_balance
from usage.models import AbuseFlag, ModelCall, UsageRecord


@dataclass(frozen=True)
class DayUsage:
    day: date
    credits: Decimal
    requests: int
    tokens: int


@dataclass(frozen=True)
class FamilyUsage:
    family: str  # "" when the call had no assistant family
    credits: Decimal
    requests: int
    tokens: int


@dataclass(frozen=True)
class UsageSummary:
    """Credits a tenant (or one of its users) used in [start, end), in display units only."""

    start: datetime
    end: datetime
    credits_used: Decimal
    credits_left: Decimal  # the organisation's balance now; credits are shared by its members
    requests: int
    tokens: int
    by_day: tuple[DayUsage, ...]
    by_family: tuple[FamilyUsage, ...]


def usage_summary(
    *,
    org: Organization,
    user: User | None = None,
    start: datetime,
    end: datetime,
    tz: tzinfo = UTC,
) -> UsageSummary:
    """Credits used in [start, end) from the UsageRecords, by day (in `tz`) and by family.

    Raw provider cost never appears here: this is what customers see.
    """
    records = UsageRecord.objects.for_org(org).filter(at__gte=start, at__lt=end)
    if user is not None:
        records = records.filter(user=user)
    totals = records.aggregate(
        credits=Sum("display_units"), requests=Count("id"), tokens=Sum("quantity")
    )
    days = (
        records.annotate(day=TruncDate("at", tzinfo=tz))
        .values("day")
        .annotate(credits=Sum("display_units"), requests=Count("id"), tokens=Sum("quantity"))
        .order_by("day")
    )
    families = (
        records.values("model_call__assistant_family")
        .annotate(credits=Sum("display_units"), requests=Count("id"), tokens=Sum("quantity"))
        .order_by("-credits", "model_call__assistant_family")
    )
    return UsageSummary(
        start=start,
        end=end,
        credits_used=totals["credits"] or ZERO,
        credits_left=credit_balance(org=org),
        requests=totals["requests"],
        tokens=totals["tokens"] or 0,
        by_day=tuple(
            DayUsage(day=d["day"], credits=d["credits"], requests=d["requests"], tokens=d["tokens"])
            for d in days
        ),
        by_family=tuple(
            FamilyUsage(
                family=f["model_call__assistant_family"],
                credits=f["credits"],
                requests=f["requests"],
                tokens=f["tokens"],
            )
            for f in families
        ),
    )


@dataclass(frozen=True)
class RecentUsage:
    """One billed answer as the organisation's dashboard lists it: credits, never raw cost."""

    at: datetime
    user_email: str  # "" when the member has since been removed
    assistant_family: str
    model: str  # the model's display name
    tokens: int
    credits: Decimal
    incomplete: bool


def usage_recent(*, org: Organization, limit: int = 10) -> list[RecentUsage]:
    """The organisation's latest billed answers, newest first, with who asked and which model."""
    rows = (
        UsageRecord.objects.for_org(org)
        .select_related("user", "model_call__model")
        .order_by("-at", "-id")[:limit]
    )
    return [
        RecentUsage(
            at=row.at,
            user_email=row.user.email if row.user else "",
            assistant_family=row.model_call.assistant_family,
            model=row.model_call.model.display_name,
            tokens=row.quantity,
            credits=row.display_units,
            incomplete=row.model_call.status != "succeeded",
        )
        for row in rows
    ]


def model_call_list(
    *,
    org: Organization | None = None,
    status: str | None = None,
    provider_id: int | None = None,
    model_id: int | None = None,
    user_id: int | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ModelCall]:
    """Model calls, newest first, for staff; `org=None` means every organisation.

    Tenant-facing code must pass `org`. Prompts are not on these rows, so nothing to redact.
    """
    calls = ModelCall.objects.all() if org is None else ModelCall.objects.for_org(org)
    filters = {
        "status": status,
        "provider_id": provider_id,
        "model_id": model_id,
        "user_id": user_id,
        "request_id": request_id,
        "at__gte": since,
        "at__lt": until,
    }
    calls = calls.filter(**{name: value for name, value in filters.items() if value is not None})
    return calls.select_related("provider", "model", "organization", "user").order_by("-at", "-id")


def abuse_flag_open_for(*, org: Organization, user: User) -> bool:
    """Whether `user` has an uncleared abuse flag in `org` (limits tighten while it is open)."""
    return AbuseFlag.objects.for_org(org).filter(user=user, cleared_at__isnull=True).exists()


def request_id_used(*, org: Organization, request_id: str) -> bool:
    """Whether any attempt of this request id exists in `org` (an idempotency-key replay)."""
    return ModelCall.objects.for_org(org).filter(request_id=request_id).exists()
