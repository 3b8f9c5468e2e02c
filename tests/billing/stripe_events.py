"""Stripe webhook events as Stripe sends them (trimmed to the fields we read), signed with the
stripe library's own scheme, and posted to our endpoint through the test client."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

import stripe
from django.test import Client

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
_ids = itertools.count(1)


def event(kind: str, obj: dict[str, Any], *, at: datetime, event_id: str = "") -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{next(_ids)}",
        "object": "event",
        "type": kind,
        "created": int(at.timestamp()),
        "data": {"object": obj},
    }


def checkout_completed(*, org: str, plan: str, sub: str, at: datetime) -> dict[str, Any]:
    session = {
        "id": f"cs_test_{sub}",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": org,
        "customer": "cus_test_1",
        "subscription": sub,
        "metadata": {"organization": org, "plan": plan},
    }
    return event("checkout.session.completed", session, at=at)


def subscription_event(
    kind: str,
    *,
    org: str,
    plan: str,
    sub: str,
    status: str,
    start: datetime,
    end: datetime,
    at: datetime,
    cancel_at_period_end: bool = False,
) -> dict[str, Any]:
    obj = {
        "id": sub,
        "object": "subscription",
        "customer": "cus_test_1",
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": None,
        "metadata": {"organization": org, "plan": plan},
        "items": {
            "data": [
                {
                    "price": {"id": f"price_{plan}"},
                    "current_period_start": int(start.timestamp()),
                    "current_period_end": int(end.timestamp()),
                }
            ]
        },
    }
    return event(f"customer.subscription.{kind}", obj, at=at)


def invoice_event(
    kind: str,
    *,
    org: str,
    plan: str,
    sub: str,
    start: datetime,
    end: datetime,
    at: datetime,
    reason: str = "subscription_cycle",
) -> dict[str, Any]:
    """An invoice in the current API's shape: the subscription under `parent`."""
    obj = {
        "id": f"in_test_{next(_ids)}",
        "object": "invoice",
        "customer": "cus_test_1",
        "billing_reason": reason,
        "parent": {
            "subscription_details": {
                "subscription": sub,
                "metadata": {"organization": org, "plan": plan},
            }
        },
        "lines": {
            "data": [
                {
                    "period": {"start": int(start.timestamp()), "end": int(end.timestamp())},
                    "pricing": {"price_details": {"price": f"price_{plan}"}},
                }
            ]
        },
    }
    return event(f"invoice.{kind}", obj, at=at)


def post(client: Client, body: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> Any:
    payload = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return client.post(
        "/billing/stripe/webhook",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
