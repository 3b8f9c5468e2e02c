from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from accounts.models import Organization
from billing.models import LIVE_SUBSCRIPTION_STATUSES, CreditLedger, Subscription
from billing.money import ZERO


def subscription_get_live(*, org: Organization) -> Subscription | None:
    return (
        Subscription.objects.for_org(org)
        .filter(status__in=LIVE_SUBSCRIPTION_STATUSES)
        .select_related("plan")
        .first()
    )


def credit_balance(*, org: Organization) -> Decimal:
    """Credits left: the sum of the append-only ledger."""
    total = CreditLedger.objects.for_org(org).aggregate(total=Sum("credits"))["total"]
    return total if total is not None else ZERO
