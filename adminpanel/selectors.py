"""Reads for the staff console, across every organisation (staff are platform-wide): provider
health from the model calls, the most expensive organisations, members and keys, one
request's whole trace, and the audit log. Prompt and answer text is never read here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Count, QuerySet, Sum, Value, When

from accounts.models import AuditLog, Organization
from billing.models import CreditLedger, Plan, PlanRequest, PlanRequestStatus
from routing.models import AIModel, PromptCheck
from usage.models import AbuseFlag, CostRecord, ModelCall

ERROR_KINDS = (
    "timeout",
    "rate_limited",
    "server_error",
    "connection",
    "bad_response",
    "client_error",
    "auth",
    "deadline",
)

# One row per provider and model since a time; the kind is the prefix chat/attempts.py
# writes before a failed attempt's error ("server_error: HTTP 500 ...").
_HEALTH_SQL = """
SELECT p.slug, m.slug, count(*),
       count(*) FILTER (WHERE c.status = 'failed'),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM usage_modelcall n WHERE n.fallback_of_id = c.id)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.latency_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY c.latency_ms),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.ttft_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY c.ttft_ms)
FROM usage_modelcall c
JOIN routing_modelprovider p ON p.id = c.provider_id
JOIN routing_aimodel m ON m.id = c.model_id
WHERE c.at >= %s
GROUP BY p.slug, m.slug
ORDER BY p.slug, m.slug
"""
_ERROR_KINDS_SQL = """
SELECT p.slug, m.slug, split_part(c.error, ':', 1), count(*)
FROM usage_modelcall c
JOIN routing_modelprovider p ON p.id = c.provider_id
JOIN routing_aimodel m ON m.id = c.model_id
WHERE c.at >= %s AND c.status = 'failed'
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class HealthRow:
    provider: str
    model: str
    requests: int
    failed: int
    fell_back: int  # attempts after which the request moved on (a retry or the next model)
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.failed / self.requests if self.requests else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fell_back / self.requests if self.requests else 0.0


def provider_health(*, since: datetime) -> list[HealthRow]:
    """Requests, error rate by kind, fallback rate and latency percentiles per provider and
    model, over the calls made since `since` (two statements)."""
    kinds: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(_ERROR_KINDS_SQL, [since])
        for provider, model, kind, count in cursor.fetchall():
            name = kind if kind in ERROR_KINDS else "other"
            by_kind = kinds[(provider, model)]
            by_kind[name] = by_kind.get(name, 0) + count
        cursor.execute(_HEALTH_SQL, [since])
        rows = cursor.fetchall()
    return [_health_row(row, kinds.get((row[0], row[1]), {})) for row in rows]


def _health_row(row: tuple[Any, ...], errors_by_kind: dict[str, int]) -> HealthRow:
    provider, model, requests, failed, fell_back, lat50, lat95, ttft50, ttft95 = row
    return HealthRow(
        provider, model, requests, failed, fell_back, lat50, lat95, ttft50, ttft95, errors_by_kind
    )


@dataclass(frozen=True)
class ModelRow:
    model: AIModel
    plans: list[str]  # names of the plans that include it


def model_catalog() -> list[ModelRow]:
    """Every model with its provider, and which plans include it (empty list: any model)."""
    plans = list(Plan.objects.order_by("sort_order", "slug"))
    models = AIModel.objects.select_related("provider").order_by("provider__priority", "slug")
    return [
        ModelRow(m, [p.name for p in plans if not p.allowed_models or m.slug in p.allowed_models])
        for m in models
    ]


def plan_request_queue() -> QuerySet[PlanRequest]:
    """Pending requests first (oldest first), then the latest decisions."""
    pending_first = Case(When(status=PlanRequestStatus.PENDING, then=Value(0)), default=Value(1))
    return PlanRequest.objects.select_related(
        "organization", "user", "requested_plan", "decided_by"
    ).order_by(pending_first, "created_at")


@dataclass(frozen=True)
class SpendRow:
    key: Any  # the organisation, the user's (org slug, email) or the API key's (org slug, name)
    org_slug: str
    raw_cost: Decimal
    credits: Decimal
    calls: int
    flags: int | None  # open abuse flags; None for API keys (users are flagged, not keys)
    filter_query: str  # the inspector's query string for this row's calls


def _costs(since: datetime) -> QuerySet[CostRecord]:
    return CostRecord.objects.filter(at__gte=since)


def _spend(since: datetime, *group: str, order: str, limit: int) -> list[dict[str, Any]]:
    rows = (
        _costs(since)
        .values(*group)
        .annotate(raw=Sum("raw_cost"), credits=Sum("display_cost"), calls=Count("id"))
        .order_by(f"-{order}")[:limit]
    )
    return list(rows)


def _open_flags(by: str) -> dict[Any, int]:
    rows = AbuseFlag.objects.filter(cleared_at__isnull=True).values(by).annotate(n=Count("id"))
    return {row[by]: row["n"] for row in rows}


def expensive_organizations(*, since: datetime, order: str, limit: int = 20) -> list[SpendRow]:
    """Organisations by raw cost or credits (`order`: "raw" or "credits") since `since`."""
    rows = _spend(since, "organization__slug", "organization__name", order=order, limit=limit)
    flags = _open_flags("organization__slug")
    return [
        SpendRow(
            r["organization__name"],
            r["organization__slug"],
            r["raw"],
            r["credits"],
            r["calls"],
            flags.get(r["organization__slug"], 0),
            f"org={r['organization__slug']}",
        )
        for r in rows
    ]


def expensive_members(*, since: datetime, order: str, limit: int = 20) -> list[SpendRow]:
    rows = _spend(since, "organization__slug", "model_call__user__email", order=order, limit=limit)
    flags = _open_flags("user__email")
    return [
        SpendRow(
            r["model_call__user__email"] or "(deleted user)",
            r["organization__slug"],
            r["raw"],
            r["credits"],
            r["calls"],
            flags.get(r["model_call__user__email"], 0),
            f"org={r['organization__slug']}&user={r['model_call__user__email'] or ''}",
        )
        for r in rows
    ]


def expensive_api_keys(*, since: datetime, order: str, limit: int = 20) -> list[SpendRow]:
    rows = _spend(
        since,
        "organization__slug",
        "model_call__api_key__name",
        "model_call__api_key__prefix",
        "model_call__api_key_id",
        order=order,
        limit=limit + 1,
    )
    keyed = [r for r in rows if r["model_call__api_key_id"] is not None][:limit]
    return [
        SpendRow(
            f"{r['model_call__api_key__name']} ({r['model_call__api_key__prefix']}…)",
            r["organization__slug"],
            r["raw"],
            r["credits"],
            r["calls"],
            None,
            f"org={r['organization__slug']}&api_key={r['model_call__api_key_id']}",
        )
        for r in keyed
    ]


@dataclass(frozen=True)
class MessageStub:
    """A message of the request's conversation, without its text."""

    id: int
    role: str
    created_at: datetime
    incomplete: bool


@dataclass(frozen=True)
class RequestTrace:
    org: Organization
    request_id: str
    precheck: PromptCheck | None
    attempts: list[ModelCall]
    ledger: list[CreditLedger]
    messages: list[MessageStub]

    @property
    def billed(self) -> ModelCall | None:
        return next((c for c in self.attempts if hasattr(c, "usage")), None)


def request_trace(*, org: Organization, request_id: str) -> RequestTrace | None:
    """One request's precheck, route decision, attempts, usage, cost and ledger row."""
    attempts = list(
        ModelCall.objects.for_org(org)
        .filter(request_id=request_id)
        .select_related("provider", "model", "user", "api_key", "usage", "cost")
        .order_by("attempt")
    )
    precheck = (
        PromptCheck.objects.for_org(org).filter(decision__request_id=request_id).order_by("-at")
    ).first()
    if not attempts and precheck is None:
        return None
    ledger = list(CreditLedger.objects.for_org(org).filter(model_call__in=attempts))
    return RequestTrace(org, request_id, precheck, attempts, ledger, _message_stubs(attempts))


def _message_stubs(attempts: list[ModelCall]) -> list[MessageStub]:
    conversation = next((c.conversation for c in attempts if c.conversation_id), None)
    if conversation is None:
        return []
    # Only these columns are read: the text stays in the database until a reveal.
    rows = conversation.messages.only("id", "role", "created_at", "incomplete")
    return [MessageStub(m.id, m.role, m.created_at, m.incomplete) for m in rows]


def audit_log_list(
    *,
    action: str = "",
    actor_email: str = "",
    org_slug: str = "",
    since: datetime | None = None,
) -> QuerySet[AuditLog]:
    """The audit log, newest first; `action` matches a prefix (`model.` finds both)."""
    rows = AuditLog.objects.select_related("actor", "organization").order_by("-at", "-id")
    if action:
        rows = rows.filter(action__startswith=action)
    if actor_email:
        rows = rows.filter(actor__email__iexact=actor_email)
    if org_slug:
        rows = rows.filter(organization__slug=org_slug)
    if since:
        rows = rows.filter(at__gte=since)
    return rows


def window_start(now: datetime, window: str) -> datetime:
    """The start of a named window: `hour`, `day`, `week` or `month` (30 days)."""
    return now - WINDOWS[window]


WINDOWS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
