"""Stripe webhooks: signed events posted to the endpoint change plans and credits once, in
any order, however often they come; anything unsigned changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing.models import CreditLedger, LedgerKind, Plan, StripeEvent, Subscription
from billing.periods import subscriptions_renew_due
from billing.selectors import credit_balance, subscription_get_live
from tests.billing import stripe_events as se
from tests.conftest import Tenant, make_tenant

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
PERIOD = (T0, T0 + timedelta(days=31))
NEXT = (PERIOD[1], PERIOD[1] + timedelta(days=31))
SUB = "sub_test_1"


@pytest.fixture(autouse=True)
def _secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = se.WEBHOOK_SECRET


@pytest.fixture
def free(db: None) -> Tenant:
    return make_tenant("Initech", plan="free")


def _state(tenant: Tenant) -> tuple[str, str, Decimal, int]:
    live = subscription_get_live(org=tenant.org)
    assert live is not None
    events = StripeEvent.objects.count()
    return live.plan.slug, live.status, credit_balance(org=tenant.org), events


def _grants(tenant: Tenant) -> list[Decimal]:
    rows = CreditLedger.objects.for_org(tenant.org).filter(kind=LedgerKind.GRANT)
    return [row.credits for row in rows.order_by("at", "id")]


def _checkout(tenant: Tenant, *, plan: str = "pro", at: datetime = T0) -> dict[str, Any]:
    return se.checkout_completed(org=tenant.org.slug, plan=plan, sub=SUB, at=at)


def _sub_event(tenant: Tenant, kind: str, status: str, at: datetime, **kw: Any) -> dict[str, Any]:
    start, end = kw.pop("period", PERIOD)
    return se.subscription_event(
        kind, org=tenant.org.slug, plan=kw.pop("plan", "pro"), sub=SUB, status=status,
        start=start, end=end, at=at, **kw,
    )  # fmt: skip


def _invoice(
    tenant: Tenant, kind: str, at: datetime, period: tuple[datetime, datetime], **kw: Any
) -> dict[str, Any]:
    return se.invoice_event(
        kind, org=tenant.org.slug, plan="pro", sub=SUB, start=period[0], end=period[1], at=at, **kw
    )


def test_a_completed_checkout_moves_the_organisation_to_the_plan_and_grants_once(
    free: Tenant,
) -> None:
    client = Client()
    before = credit_balance(org=free.org)
    checkout = _checkout(free)

    first = se.post(client, checkout)
    again = se.post(client, checkout)

    assert first.status_code == 200 and first.json()["applied"] is True
    assert again.status_code == 200 and again.json()["applied"] is False
    live = subscription_get_live(org=free.org)
    assert live is not None and live.plan.slug == "pro" and live.stripe_subscription_id == SUB
    pro = Plan.objects.get(slug="pro").monthly_credits
    assert credit_balance(org=free.org) == before + pro
    # The first invoice of the same subscription is the same period: nothing more.
    paid = _invoice(free, "paid", T0 + timedelta(seconds=5), PERIOD, reason="subscription_create")
    assert se.post(client, paid).json()["applied"] is True
    assert credit_balance(org=free.org) == before + pro
    assert Subscription.objects.for_org(free.org).filter(status="canceled").count() == 1


def test_events_out_of_order_land_on_the_latest_state(free: Tenant) -> None:
    client = Client()
    pro = Plan.objects.get(slug="pro").monthly_credits
    before = credit_balance(org=free.org)
    # Stripe delivers the first invoice and a later past-due update before the checkout.
    paid = _invoice(free, "paid", T0 + timedelta(seconds=2), PERIOD, reason="subscription_create")
    past_due = _sub_event(free, "updated", "past_due", T0 + timedelta(days=2))
    created = _sub_event(free, "created", "active", T0 + timedelta(seconds=1))

    for body in (paid, past_due, created, _checkout(free)):
        assert se.post(Client(), body).status_code == 200

    plan, status, balance, _ = _state(free)
    assert (plan, status) == ("pro", "past_due")  # older events did not roll it back
    assert balance == before + pro
    assert se.post(client, created).json()["applied"] is False


def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(free: Tenant) -> None:
    client = Client()
    before = _state(free)

    forged = se.post(client, _checkout(free), secret="whsec_someone_else")
    unsigned = client.post(
        "/billing/stripe/webhook", _checkout(free), content_type="application/json"
    )

    assert forged.status_code == 400
    assert forged.json()["error"]["param"] == "Stripe-Signature"
    assert unsigned.status_code == 400
    assert _state(free) == before


def test_webhooks_are_refused_when_no_secret_is_configured(free: Tenant, settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    before = _state(free)

    response = se.post(Client(), _checkout(free))

    assert response.status_code == 400
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["error"]["message"]
    assert _state(free) == before


def test_a_renewal_invoice_opens_the_next_period_and_grants_once(free: Tenant) -> None:
    client = Client()
    se.post(client, _checkout(free))
    CreditLedger.objects.create(
        organization=free.org, kind=LedgerKind.ADJUSTMENT, credits=Decimal("-1000"), note="used"
    )
    left = credit_balance(org=free.org)
    renewal = _invoice(free, "paid", NEXT[0] + timedelta(minutes=1), NEXT)

    se.post(client, renewal)
    se.post(client, {**renewal, "id": "evt_test_redelivered_as_new"})  # same invoice again

    live = subscription_get_live(org=free.org)
    assert live is not None and (live.current_period_start, live.current_period_end) == NEXT
    pro = Plan.objects.get(slug="pro")
    assert not pro.credits_roll_over
    expiry = CreditLedger.objects.for_org(free.org).get(kind=LedgerKind.EXPIRY)
    assert expiry.credits == -left and "expired" in expiry.note
    assert credit_balance(org=free.org) == pro.monthly_credits
    assert _grants(free)[-1] == pro.monthly_credits and len(_grants(free)) == 3  # free, pro, next
    newest = CreditLedger.objects.for_org(free.org).order_by("-id").first()
    assert newest is not None and "unused credits expired" in newest.note


def test_a_plan_that_rolls_over_keeps_unused_credits_into_the_next_period(
    free: Tenant,
) -> None:
    Plan.objects.filter(slug="pro").update(credits_roll_over=True)
    client = Client()
    se.post(client, _checkout(free))
    left = credit_balance(org=free.org)

    se.post(client, _invoice(free, "paid", NEXT[0], NEXT))

    pro = Plan.objects.get(slug="pro").monthly_credits
    assert credit_balance(org=free.org) == left + pro
    assert not CreditLedger.objects.for_org(free.org).filter(kind=LedgerKind.EXPIRY).exists()
    newest = CreditLedger.objects.for_org(free.org).order_by("-id").first()
    assert newest is not None and "rolled over" in newest.note


def test_a_failed_payment_marks_the_subscription_past_due_and_the_app_says_so(
    free: Tenant,
) -> None:
    client = Client()
    se.post(client, _checkout(free))

    se.post(client, _invoice(free, "payment_failed", T0 + timedelta(days=31), NEXT))

    assert _state(free)[1] == "past_due"
    client.force_login(free.owner)
    page = client.get("/app/").content.decode()
    assert 'data-testid="billing-notice"' in page and "payment" in page
    # Paying later brings it back.
    se.post(client, _invoice(free, "paid", T0 + timedelta(days=32), NEXT))
    assert _state(free)[1] == "active"


def test_a_cancelled_subscription_ends_on_free_at_the_end_of_its_period(free: Tenant) -> None:
    client = Client()
    se.post(client, _checkout(free))
    deleted = _sub_event(free, "deleted", "canceled", T0 + timedelta(days=3))

    se.post(client, deleted)

    assert _state(free)[0] == "pro"  # paid until the period ends
    assert subscriptions_renew_due(now=PERIOD[1] - timedelta(minutes=1)) == 0
    assert subscriptions_renew_due(now=PERIOD[1] + timedelta(minutes=1)) == 1
    assert _state(free)[:2] == ("free", "active")
    assert subscriptions_renew_due(now=PERIOD[1] + timedelta(minutes=2)) == 0


def test_an_event_for_one_organisation_never_touches_another(free: Tenant) -> None:
    other = make_tenant("Umbrella", plan="free")
    before = _state(other)[:3]

    se.post(Client(), _checkout(free))

    assert _state(other)[:3] == before
    assert _state(free)[0] == "pro"


def test_an_event_naming_no_organisation_of_ours_is_recorded_and_changes_nothing(
    free: Tenant,
) -> None:
    before = _state(free)[:3]
    stranger = se.checkout_completed(org="not-ours", plan="pro", sub="sub_other", at=T0)

    response = se.post(Client(), stranger)

    assert response.status_code == 200
    assert _state(free)[:3] == before
    assert not Subscription.objects.filter(stripe_subscription_id="sub_other").exists()
