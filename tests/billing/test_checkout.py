"""The billing page's way to pay: Stripe Checkout and the customer portal when payments are
configured (Stripe's servers replaced by a local one at the HTTP boundary), plan requests
when they are not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from billing.models import Plan, Subscription
from tests.billing.fake_stripe import FakeStripe, fake_stripe
from tests.conftest import Tenant, make_tenant

pytestmark = pytest.mark.django_db
SECRET_KEY = "sk_test_0123456789"


@pytest.fixture
def stripe_api(settings: Any) -> Iterator[FakeStripe]:
    with fake_stripe() as fake:
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_API_BASE = fake.url
        Plan.objects.filter(slug="pro").update(stripe_price_id="price_pro_monthly")
        yield fake


@pytest.fixture
def free(db: None) -> Tenant:
    return make_tenant("Initech", plan="free")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_is_sent_to_stripe_checkout_for_the_plan_with_the_organisation_in_it(
    free: Tenant, stripe_api: FakeStripe
) -> None:
    response = _client(free.owner).post("/app/billing/checkout/", {"plan": "pro"})

    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/c/pay/cs_test_1"
    [(path, params, auth)] = stripe_api.requests
    assert path == "/v1/checkout/sessions" and auth == f"Bearer {SECRET_KEY}"
    assert params["mode"] == "subscription"
    assert params["line_items[0][price]"] == "price_pro_monthly"
    assert params["client_reference_id"] == free.org.slug
    assert params["metadata[plan]"] == "pro"
    assert params["subscription_data[metadata][organization]"] == free.org.slug
    assert params["customer_email"] == free.owner.email
    assert params["success_url"].endswith("/app/billing/?checkout=success")


def test_the_billing_page_offers_the_paid_plans_to_owners_only(
    free: Tenant, stripe_api: FakeStripe
) -> None:
    owner_page = _client(free.owner).get("/app/billing/").content.decode()
    member_page = _client(free.member).get("/app/billing/").content.decode()

    assert "Subscribe to Pro" in owner_page
    assert "Subscribe to Pro" not in member_page
    assert "Owners and admins choose the plan" in member_page


def test_a_member_cannot_start_a_checkout(free: Tenant, stripe_api: FakeStripe) -> None:
    response = _client(free.member).post("/app/billing/checkout/", {"plan": "pro"})

    assert response.status_code == 403
    assert stripe_api.requests == []


def test_a_plan_without_a_stripe_price_cannot_be_bought(
    free: Tenant, stripe_api: FakeStripe
) -> None:
    response = _client(free.owner).post("/app/billing/checkout/", {"plan": "team"}, follow=True)

    assert "cannot be bought here" in response.content.decode()
    assert stripe_api.requests == []


def test_stripe_failing_is_told_plainly_without_its_details(
    free: Tenant, stripe_api: FakeStripe
) -> None:
    stripe_api.status = 500

    response = _client(free.owner).post("/app/billing/checkout/", {"plan": "pro"}, follow=True)

    page = response.content.decode()
    assert response.status_code == 200 and "Stripe could not be reached" in page
    assert SECRET_KEY not in page


def test_a_subscribed_owner_manages_the_subscription_in_the_portal(
    free: Tenant, stripe_api: FakeStripe
) -> None:
    Subscription.objects.for_org(free.org).update(
        stripe_customer_id="cus_test_9", stripe_subscription_id="sub_test_9"
    )
    client = _client(free.owner)

    assert "Open the customer portal" in client.get("/app/billing/").content.decode()
    response = client.post("/app/billing/portal/")

    assert response.status_code == 302
    assert response["Location"] == "https://billing.stripe.test/p/session/bps_test_1"
    [(path, params, _)] = stripe_api.requests
    assert path == "/v1/billing_portal/sessions" and params["customer"] == "cus_test_9"


def test_without_stripe_keys_the_page_says_payments_are_off_and_points_to_plan_requests(
    free: Tenant, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""

    page = _client(free.owner).get("/app/billing/").content.decode()
    response = _client(free.owner).post("/app/billing/checkout/", {"plan": "pro"})

    assert 'data-testid="payments-off"' in page and "plan request" in page
    assert response.status_code == 302 and response["Location"] == "/app/billing/"


def test_the_billing_page_shows_only_its_own_organisation(free: Tenant) -> None:
    other = make_tenant("Umbrella", plan="team")

    page = _client(free.owner).get("/app/billing/").content.decode()

    assert "Umbrella" not in page and other.owner.email not in page
    assert 'data-testid="plan-name">Free<' in page
