"""Celery tasks of the billing app: each calls one service."""

from __future__ import annotations

from celery import shared_task

from billing.budget import budget_alerts_send
from billing.periods import subscriptions_renew_due


@shared_task
def subscriptions_renew_due_task() -> int:
    """Open the next credit period of every subscription whose period ended (every 10 min).

    Idempotency: each subscription is locked and re-checked, and each grant and expiry has a
    period key unique per organisation, so overlapping or repeated runs grant once.
    """
    return subscriptions_renew_due()


@shared_task
def budget_alerts_send_task() -> int:
    """E-mail the budget caps that reached their warning share (every minute).

    Idempotency: an alert is claimed with SKIP LOCKED and marked sent in the same
    transaction, so two runs never send the same one.
    """
    return budget_alerts_send()
