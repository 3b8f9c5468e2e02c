"""Stripe's webhook events applied to our subscriptions and ledger, from each event's own
contents (the organisation and plan travel in the metadata our checkout sets).

Each event is applied at most once: its id is recorded in StripeEvent in the transaction of
its effect. Events may come in any order and again for days: a subscription remembers the
time of the last event applied to it and ignores older state, and every grant is keyed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import Organization
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    LedgerKind,
    Plan,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
)
from billing.periods import (
    ledger_once,
    month_after,
    period_close,
    period_grant,
    period_key_used,
    subscription_end,
)

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

# Stripe's subscription statuses as ours; `canceled` arrives as customer.subscription.deleted.
STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIALING,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAST_DUE,
}


@dataclass(frozen=True)
class StripeRef:
    """What an event says about one Stripe subscription."""

    subscription_id: str
    customer_id: str
    org_slug: str
    plan_slug: str
    price_id: str
    period: tuple[datetime, datetime] | None


def stripe_event_apply(event: Obj) -> bool:
    """Apply a verified event once; False when it was applied before."""
    at = _time(event["created"])
    with transaction.atomic():
        _, created = StripeEvent.objects.get_or_create(
            event_id=str(event["id"]), defaults={"type": str(event["type"])[:80], "created": at}
        )
        if not created:
            return False
        handler = HANDLERS.get(event["type"])
        if handler is not None:
            handler(event["data"]["object"], at)
    return True


def _checkout_completed(session: Obj, at: datetime) -> None:
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return
    metadata = session.get("metadata") or {}
    ref = StripeRef(
        subscription_id=_id(session["subscription"]),
        customer_id=_id(session.get("customer")),
        org_slug=session.get("client_reference_id") or metadata.get("organization", ""),
        plan_slug=metadata.get("plan", ""),
        price_id="",
        period=None,
    )
    subscription = _subscription(ref, at)
    if subscription is None:
        return
    if _is_newer(subscription, at):
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.stripe_event_at = at
        subscription.save(update_fields=["status", "stripe_event_at"])
    _grant_first_period(subscription)


def _subscription_changed(obj: Obj, at: datetime) -> None:
    ref = _ref_of_subscription(obj)
    subscription = _subscription(ref, at)
    if subscription is None or not _is_newer(subscription, at):
        return
    plan = _plan(ref)
    if plan is not None and plan.pk != subscription.plan_id:
        _plan_change(subscription, plan)
    if obj.get("status") in STATUSES:
        subscription.status = STATUSES[obj["status"]]
    if ref.period is not None:
        subscription.current_period_start, subscription.current_period_end = ref.period
    subscription.ends_at = _ends_at(obj, subscription)
    subscription.stripe_event_at = at
    subscription.save()


def _ends_at(obj: Obj, subscription: Subscription) -> datetime | None:
    """When a subscription set to cancel stops: Stripe's `cancel_at`, or its period's end."""
    if obj.get("cancel_at"):
        return _time(obj["cancel_at"])
    if obj.get("cancel_at_period_end"):
        return subscription.current_period_end
    return None


def _subscription_deleted(obj: Obj, at: datetime) -> None:
    """Cancelled for good: the organisation keeps its plan until the paid period ends."""
    subscription = _subscription(_ref_of_subscription(obj), at)
    if subscription is None or subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
        return
    subscription.ends_at = max(subscription.current_period_end, at)
    subscription.stripe_event_at = max(subscription.stripe_event_at or at, at)
    subscription.save(update_fields=["ends_at", "stripe_event_at"])
    if subscription.ends_at <= at:
        subscription_end(subscription=subscription, now=at)


def _invoice_paid(invoice: Obj, at: datetime) -> None:
    ref = _ref_of_invoice(invoice)
    subscription = _subscription(ref, at)
    if subscription is None:
        return
    if invoice.get("billing_reason") == "subscription_create":
        _grant_first_period(subscription)
    elif ref.period is not None:
        _grant_next_period(subscription, start=ref.period[0])
    if _is_newer(subscription, at):
        if ref.period is not None:
            subscription.current_period_start, subscription.current_period_end = ref.period
        if subscription.status == SubscriptionStatus.PAST_DUE:
            subscription.status = SubscriptionStatus.ACTIVE
        subscription.stripe_event_at = at
        subscription.save()


def _invoice_failed(invoice: Obj, at: datetime) -> None:
    subscription = _subscription(_ref_of_invoice(invoice), at)
    if subscription is None or not _is_newer(subscription, at):
        return
    subscription.status = SubscriptionStatus.PAST_DUE
    subscription.stripe_event_at = at
    subscription.save(update_fields=["status", "stripe_event_at"])


HANDLERS: dict[str, Callable[[Obj, datetime], None]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}


def _subscription(ref: StripeRef, at: datetime) -> Subscription | None:
    """Our row for the Stripe subscription, locked; created (and the organisation moved onto
    it) by whichever of its events comes first. None for a subscription that is not ours."""
    found = (
        Subscription.objects.select_for_update()
        .select_related("plan", "organization")
        .filter(stripe_subscription_id=ref.subscription_id)
        .first()
    )
    if found is not None or not ref.subscription_id:
        return found
    org = Organization.objects.filter(slug=ref.org_slug).first() if ref.org_slug else None
    plan = _plan(ref)
    if org is None or plan is None:
        logger.warning(
            "Stripe subscription %s names no organisation and plan of ours", ref.subscription_id
        )
        return None
    Subscription.objects.for_org(org).filter(status__in=LIVE_SUBSCRIPTION_STATUSES).update(
        status=SubscriptionStatus.CANCELED
    )
    start, end = ref.period or (at, month_after(at))
    return Subscription.objects.create(
        organization=org,
        plan=plan,
        status=SubscriptionStatus.ACTIVE,
        stripe_customer_id=ref.customer_id,
        stripe_subscription_id=ref.subscription_id,
        current_period_start=start,
        current_period_end=end,
    )


def _grant_first_period(subscription: Subscription) -> None:
    """The first period's credits, from the checkout or the first invoice, whichever is first."""
    period_grant(
        subscription=subscription,
        key=f"stripe:{subscription.stripe_subscription_id}:first",
        note=f"{subscription.plan.name} plan credits (subscribed)",
    )


def _grant_next_period(subscription: Subscription, *, start: datetime) -> None:
    """A renewal paid: the old period's credits expire or roll over, the new one's arrive."""
    key = f"stripe:{subscription.stripe_subscription_id}:{start:%Y-%m-%dT%H:%M}"
    if period_key_used(org=subscription.organization, key=key):
        return
    carried = period_close(subscription=subscription)
    note = f"{subscription.plan.name} plan credits from {start:%Y-%m-%d}"
    period_grant(
        subscription=subscription, key=key, note=f"{note} ({carried})" if carried else note
    )


def _plan_change(subscription: Subscription, plan: Plan) -> None:
    """A plan changed in Stripe's portal: an upgrade tops up this period by the difference."""
    top_up = plan.monthly_credits - subscription.plan.monthly_credits
    subscription.plan = plan
    if top_up <= 0:
        return
    key = (
        f"stripe:{subscription.stripe_subscription_id}:{plan.slug}:"
        f"{subscription.current_period_start:%Y-%m-%dT%H:%M}"
    )
    ledger_once(
        org=subscription.organization,
        key=key,
        kind=LedgerKind.GRANT,
        credits=top_up,
        note=f"Upgrade to {plan.name}",
    )


def _is_newer(subscription: Subscription, at: datetime) -> bool:
    return subscription.stripe_event_at is None or at >= subscription.stripe_event_at


def _plan(ref: StripeRef) -> Plan | None:
    if ref.plan_slug:
        return Plan.objects.filter(slug=ref.plan_slug).first()
    if ref.price_id:
        return Plan.objects.filter(stripe_price_id=ref.price_id).first()
    return None


def _ref_of_subscription(obj: Obj) -> StripeRef:
    metadata = obj.get("metadata") or {}
    item = _first(obj.get("items"))
    start = obj.get("current_period_start") or item.get("current_period_start")
    end = obj.get("current_period_end") or item.get("current_period_end")
    return StripeRef(
        subscription_id=str(obj.get("id", "")),
        customer_id=_id(obj.get("customer")),
        org_slug=metadata.get("organization", ""),
        plan_slug=metadata.get("plan", ""),
        price_id=_id((item.get("price") or {}).get("id")),
        period=(_time(start), _time(end)) if start and end else None,
    )


def _ref_of_invoice(invoice: Obj) -> StripeRef:
    """Invoices name their subscription in a place that moved between Stripe API versions."""
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    details = invoice.get("subscription_details") or parent
    line = _first(invoice.get("lines"))
    metadata = details.get("metadata") or line.get("metadata") or {}
    price = line.get("price") or (line.get("pricing") or {}).get("price_details") or {}
    period = line.get("period") or {}
    return StripeRef(
        subscription_id=_id(invoice.get("subscription") or parent.get("subscription")),
        customer_id=_id(invoice.get("customer")),
        org_slug=metadata.get("organization", ""),
        plan_slug=metadata.get("plan", ""),
        price_id=_id(price.get("id") or price.get("price")),
        period=(_time(period["start"]), _time(period["end"])) if period.get("end") else None,
    )


def _first(listing: Obj | None) -> Obj:
    data = (listing or {}).get("data") or [{}]
    return data[0] if isinstance(data[0], dict) else {}


def _id(value: object) -> str:
    """An id, whether Stripe sent it as a string or expanded as an object."""
    if isinstance(value, dict):
        return str(value.get("id", ""))
    return str(value or "")


def _time(epoch: int | float | str | Decimal) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)
