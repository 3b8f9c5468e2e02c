"""Every call to Stripe's servers, and the check of its webhook signatures, in one place.

Tests point STRIPE_API_BASE at a local HTTP server that answers like Stripe, so the rest of
billing runs as in production. Nothing here writes to our database.
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from django.conf import settings

from accounts.errors import ApplicationError
from accounts.models import Organization
from billing.models import Plan


class PaymentsUnavailable(ApplicationError):
    status_code = 502
    error_type = "api_error"
    code = "payments_unavailable"


class WebhookRejected(ApplicationError):
    code = "invalid_webhook"


def payments_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )


def checkout_url(
    *,
    org: Organization,
    plan: Plan,
    email: str,
    customer_id: str,
    success_url: str,
    cancel_url: str,
) -> str:
    """A Stripe Checkout Session for `org` to subscribe to `plan`; the page to send them to.

    The organisation and plan travel in the session and in the subscription's metadata, so
    every later event names them without a call back to Stripe.
    """
    metadata = {"organization": org.slug, "plan": plan.slug}
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "client_reference_id": org.slug,
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer_id:
        params["customer"] = customer_id
    else:
        params["customer_email"] = email
    try:
        session = _client().v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    except stripe.StripeError as error:
        raise PaymentsUnavailable(_failure(error)) from None
    return str(session.url)


def portal_url(*, customer_id: str, return_url: str) -> str:
    """Stripe's customer portal for changing the card or cancelling."""
    try:
        session = _client().v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url}
        )
    except stripe.StripeError as error:
        raise PaymentsUnavailable(_failure(error)) from None
    return str(session.url)


def webhook_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in a webhook request, once its Stripe-Signature is verified."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
        )
    except stripe.SignatureVerificationError:
        raise WebhookRejected(
            "The Stripe-Signature header does not match this payload.",
            {"param": "Stripe-Signature"},
        ) from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookRejected("The payload is not JSON.") from None
    if not isinstance(event, dict) or not {"id", "type", "created", "data"} <= event.keys():
        raise WebhookRejected("The payload is not a Stripe event.")
    return event


def _failure(error: stripe.StripeError) -> str:
    # Stripe's message can quote the request; say only what kind of failure it was.
    return f"Stripe could not be reached or refused the request ({type(error).__name__})."
