from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Organization, User
from accounts.selectors import membership_get
from accounts.sql import sql_run
from billing.errors import NoActivePlan
from billing.ledger import credit_balance_sql
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    PlanRequest,
    Subscription,
    UserEntitlement,
)
from billing.money import ZERO
from billing.types import Entitlement


def subscription_get_live(*, org: Organization) -> Subscription | None:
    return (
        Subscription.objects.for_org(org)
        .filter(status__in=LIVE_SUBSCRIPTION_STATUSES)
        .select_related("plan")
        .first()
    )


def credit_balance(*, org: Organization) -> Decimal:
    """Credits left: the sum of the append-only ledger, as its trigger keeps it."""
    row = sql_run(credit_balance_sql(org_id=org.pk))
    return row[0] if row else ZERO


def entitlement_get(*, org: Organization, user: User, now: datetime | None = None) -> Entitlement:
    """The user's entitlement in `org`: the org's live plan, replaced or widened by an
    unexpired UserEntitlement. Raises NoActivePlan when the org has no live subscription."""
    subscription = subscription_get_live(org=org)
    if subscription is None:
        raise NoActivePlan(f"{org.name} has no active plan.")
    now = now or timezone.now()
    override = (
        UserEntitlement.objects.for_org(org)
        .filter(user=user)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("plan")
        .first()
    )
    plan = override.plan if override and override.plan else subscription.plan
    extra_families = set(override.extra_families) if override else set()
    extra_models = set(override.extra_models) if override else set()
    models = frozenset(plan.allowed_models) | extra_models if plan.allowed_models else frozenset()
    return Entitlement(
        plan_slug=plan.slug,
        plan_name=plan.name,
        families=frozenset(plan.allowed_families) | extra_families,
        models=frozenset(models),
        modes=frozenset(plan.allowed_modes),
        max_context=plan.max_context,
        rpm=plan.rpm,
        org_rpm=plan.org_rpm or 10 * plan.rpm,
        max_concurrency=plan.max_concurrency,
        images_allowed=plan.images_allowed,
        denied_categories=frozenset(plan.denied_categories),
        display_multiplier=plan.display_multiplier,
        cached_answer_share=plan.cached_answer_share,
        credits_left=credit_balance(org=org),
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        audit_rate=(
            subscription.audit_rate if subscription.audit_rate is not None else plan.audit_rate
        ),
        audit_daily_budget=plan.audit_daily_budget,
    )


def plan_request_list(*, org: Organization, user: User) -> QuerySet[PlanRequest]:
    """The user's own plan requests in `org`, newest first (what the usage and chat pages show)."""
    return (
        PlanRequest.objects.for_org(org)
        .filter(user=user)
        .select_related("requested_plan")
        .order_by("-created_at", "-id")
    )


def plan_request_list_visible(*, org: Organization, user: User) -> QuerySet[PlanRequest]:
    """Owners and admins see all of the organisation's requests; everyone else only their own."""
    requests = (
        PlanRequest.objects.for_org(org)
        .select_related("requested_plan", "user")
        .order_by("-created_at", "-id")
    )
    membership = membership_get(org=org, user=user)
    if membership is None or not membership.can_manage:
        requests = requests.filter(user=user)
    return requests
