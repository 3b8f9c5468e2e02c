"""Billing notices on every page: a failed payment, a cancelled subscription, a budget cap
near its limit. Read only when a full page renders them (not for htmx fragments)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from billing.budget import budget_warnings
from billing.models import SubscriptionStatus
from billing.selectors import subscription_get_live


@dataclass(frozen=True)
class Notice:
    level: str  # warning | error
    text: str


def billing_notices(request: HttpRequest) -> dict[str, Any]:
    org, user = getattr(request, "org", None), getattr(request, "user", None)
    if org is None or user is None or not user.is_authenticated:
        return {"billing_notices": []}
    return {"billing_notices": SimpleLazyObject(lambda: _notices(org, user))}


def _notices(org: Any, user: Any) -> list[Notice]:
    notices = []
    subscription = subscription_get_live(org=org)
    if subscription is not None and subscription.status == SubscriptionStatus.PAST_DUE:
        notices.append(Notice("error", f"The last payment for {org.name} failed: update the card."))
    if subscription is not None and subscription.ends_at is not None:
        notices.append(
            Notice(
                "warning",
                f"{subscription.plan.name} is cancelled: {org.name} moves to the Free plan "
                f"on {subscription.ends_at:%-d %b %Y}.",
            )
        )
    for use in budget_warnings(org=org, user=user):
        whose = "Your" if use.cap.user_id else "The organisation's"
        reached = "reached" if use.percent >= 100 else f"{use.percent}% used"
        notices.append(
            Notice(
                "error" if use.percent >= 100 else "warning",
                f"{whose} monthly budget cap: {reached} ({use.spent:,.2f} of "
                f"{use.cap.monthly_credits:,.2f} credits).",
            )
        )
    return notices
