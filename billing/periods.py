"""Credit periods: each subscription period grants its plan's monthly credits exactly once,
and ends by expiring what was not used, or rolling it over when the plan says so.

Periods of subscriptions we bill ourselves (Free, plans moved by staff) are renewed by a
beat task; Stripe-billed ones by `invoice.paid` (billing/stripe_events.py). A grant or an
expiry carries a `period_key`, unique per organisation, so running either twice does nothing.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    CreditLedger,
    LedgerKind,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from billing.selectors import credit_balance

DEFAULT_PLAN_SLUG = "free"

DEFAULT_PLAN_SLUG = "free"


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month containing `now`, as [start, end)."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


def month_after(moment: datetime) -> datetime:
    """The same time one month later (the 31st becomes the month's last day)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def plan_get_default() -> Plan:
    try:
        return Plan.objects.get(slug=DEFAULT_PLAN_SLUG)
    except Plan.DoesNotExist:
        raise ImproperlyConfigured(
            f"No '{DEFAULT_PLAN_SLUG}' plan: run `manage.py seed_catalog` first"
        ) from None


def subscription_start(
    *, org: Organization, plan: Plan, user: User | None = None, now: datetime | None = None
) -> Subscription:
    """Put `org` on `plan` for the current month and grant the plan's monthly credits.

    The partial unique index on live subscriptions makes a second live one fail, so an org
    can never be on two plans at once.
    """
    start, end = month_bounds(now or timezone.now())
    with transaction.atomic():
        subscription = Subscription.objects.create(
            organization=org,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            current_period_start=start,
            current_period_end=end,
        )
        period_grant(
            subscription=subscription,
            key=period_key_of(subscription),
            user=user,
            note=f"{plan.name} plan credits for {start:%Y-%m}",
        )
    return subscription


def period_key_used(*, org: Organization, key: str) -> bool:
    return CreditLedger.objects.for_org(org).filter(period_key=key).exists()


def ledger_once(
    *,
    org: Organization,
    key: str,
    kind: LedgerKind,
    credits: Decimal,
    note: str,
    user: User | None = None,
) -> bool:
    """Write one ledger row keyed by `key`, unless the organisation already has it; True if
    now. The unique (organization, period_key) index backs the check."""
    with transaction.atomic():
        if period_key_used(org=org, key=key):
            return False
        CreditLedger.objects.create(
            organization=org, user=user, kind=kind, credits=credits, note=note[:200], period_key=key
        )
    return True


def period_grant(
    *, subscription: Subscription, key: str, user: User | None = None, note: str = ""
) -> bool:
    """Grant the subscription's plan credits for one period, once per `key`; True if now."""
    plan = subscription.plan
    return ledger_once(
        org=subscription.organization,
        key=key,
        kind=LedgerKind.GRANT,
        credits=plan.monthly_credits,
        note=note or f"{plan.name} plan credits",
        user=user,
    )


def period_close(*, subscription: Subscription) -> str:
    """End the subscription's current period: expire the unused credits, unless its plan rolls
    them over. Returns what the next grant's note says about them."""
    org, plan = subscription.organization, subscription.plan
    left = credit_balance(org=org)
    if left <= 0:
        return ""
    if plan.credits_roll_over:
        return f"{left:,.2f} unused credits rolled over"
    ended = subscription.current_period_end
    ledger_once(
        org=org,
        key=f"expiry:{subscription.pk}:{ended:%Y-%m-%dT%H:%M}",
        kind=LedgerKind.EXPIRY,
        credits=-left,
        note=f"Unused credits of the period ending {ended:%Y-%m-%d} expired",
    )
    return f"{left:,.2f} unused credits expired"


def subscriptions_renew_due(*, now: datetime | None = None) -> int:
    """Move every live subscription whose period is over into its next one (beat, hourly):
    ours renew and grant; a cancelled one drops to Free. Returns how many moved."""
    now = now or timezone.now()
    due = Subscription.objects.filter(
        status__in=LIVE_SUBSCRIPTION_STATUSES, current_period_end__lte=now
    ).values_list("pk", flat=True)
    return sum(_renew(pk, now) for pk in due)


def _renew(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update()
            .select_related("plan", "organization")
            .get(pk=pk)
        )
        if subscription.current_period_end > now or subscription.status not in (
            LIVE_SUBSCRIPTION_STATUSES
        ):
            return False  # another run got here first
        if subscription.ends_at is not None and subscription.ends_at <= now:
            subscription_end(subscription=subscription, now=now)
            return True
        if subscription.stripe_subscription_id:
            return False  # Stripe opens its next period with invoice.paid
        carried = period_close(subscription=subscription)
        start = subscription.current_period_end
        while month_after(start) <= now:  # a beat that was down skips the missed periods
            start = month_after(start)
        subscription.current_period_start, subscription.current_period_end = (
            start,
            month_after(start),
        )
        subscription.save(update_fields=["current_period_start", "current_period_end"])
        note = f"{subscription.plan.name} plan credits for {start:%Y-%m}"
        period_grant(
            subscription=subscription,
            key=period_key_of(subscription),
            note=f"{note} ({carried})" if carried else note,
        )
    return True


def period_key_of(subscription: Subscription) -> str:
    """The key of a period we bill ourselves."""
    return f"period:{subscription.pk}:{subscription.current_period_start:%Y-%m-%dT%H:%M}"


def subscription_end(*, subscription: Subscription, now: datetime) -> Subscription:
    """End a cancelled subscription (its paid time is over) and put the organisation on Free."""
    period_close(subscription=subscription)
    subscription.status = SubscriptionStatus.CANCELED
    subscription.save(update_fields=["status"])
    return subscription_start(org=subscription.organization, plan=plan_get_default(), now=now)
