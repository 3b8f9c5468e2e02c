"""GET /api/usage: a tenant's credits this billing period, in display units only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from billing.selectors import subscription_get_live
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.conftest import Tenant, bearer
from tests.usage.factories import CostRecordFactory, UsageRecordFactory
from usage.models import UsageRecord

pytestmark = pytest.mark.django_db


def keys_anywhere(value: Any) -> set[str]:
    """Every dict key in a JSON document, however deeply nested."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def spend(tenant: Tenant, user: Any, credits: str, family: str = "generalist") -> UsageRecord:
    record = UsageRecordFactory(
        model_call__organization=tenant.org,
        model_call__user=user,
        model_call__assistant_family=family,
        display_units=Decimal(credits),
    )
    CostRecordFactory(model_call=record.model_call, raw_cost=Decimal("0.1234567891"))
    return record


def test_owner_sees_the_organisations_credits_by_day_and_family(api_client, tenant: Tenant) -> None:
    spend(tenant, tenant.owner, "10.5", family="coder")
    spend(tenant, tenant.member, "2.25", family="writer")
    spend(tenant, tenant.member, "1.25", family="coder")
    api_client.force_login(tenant.owner)

    response = api_client.get("/api/usage")

    body = response.json()
    subscription = subscription_get_live(org=tenant.org)
    assert response.status_code == 200
    assert body["plan"] == "Pro"
    assert body["plan_slug"] == "pro"
    assert body["scope"] == "organization"
    assert body["period_start"] == subscription.current_period_start.isoformat().replace(
        "+00:00", "Z"
    )
    assert body["period_end"] == subscription.current_period_end.isoformat().replace("+00:00", "Z")
    assert body["credits_used"] == "14.0000"
    assert body["credits_left"] == "30000.0000"
    assert body["requests"] == 3
    assert [(f["family"], f["credits"], f["requests"]) for f in body["by_family"]] == [
        ("coder", "11.7500", 2),
        ("writer", "2.2500", 1),
    ]
    assert len(body["by_day"]) == 1
    assert body["by_day"][0]["credits"] == "14.0000"


def test_user_me_narrows_to_the_callers_own_usage(api_client, tenant: Tenant) -> None:
    spend(tenant, tenant.owner, "10")
    spend(tenant, tenant.member, "3")
    api_client.force_login(tenant.member)

    body = api_client.get("/api/usage", {"user": "me"}).json()

    assert body["scope"] == "user"
    assert body["credits_used"] == "3.0000"
    assert body["requests"] == 1


def test_api_key_reports_its_organisation(api_client, tenant: Tenant) -> None:
    spend(tenant, tenant.owner, "4")

    response = api_client.get("/api/usage", **bearer(tenant))

    assert response.status_code == 200
    assert response.json()["credits_used"] == "4.0000"


def test_usage_outside_the_billing_period_is_left_out(api_client, tenant: Tenant) -> None:
    old = spend(tenant, tenant.owner, "50")
    spend(tenant, tenant.owner, "5")
    start = subscription_get_live(org=tenant.org).current_period_start
    UsageRecord.objects.filter(pk=old.pk).update(at=start - timedelta(seconds=1))
    api_client.force_login(tenant.owner)

    body = api_client.get("/api/usage").json()

    assert body["credits_used"] == "5.0000"


def test_unknown_user_filter_is_rejected_naming_the_field(api_client, tenant: Tenant) -> None:
    api_client.force_login(tenant.owner)

    response = api_client.get("/api/usage", {"user": tenant.member.email})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "user"


def test_organisation_never_sees_another_organisations_usage(
    api_client, tenant: Tenant, other_tenant: Tenant
) -> None:
    spend(tenant, tenant.owner, "7")
    spend(other_tenant, other_tenant.owner, "100")
    spend(other_tenant, other_tenant.member, "200")

    acme = api_client.get("/api/usage", **bearer(tenant)).json()
    globex = api_client.get("/api/usage", **bearer(other_tenant)).json()

    assert (acme["credits_used"], acme["requests"]) == ("7.0000", 1)
    assert (globex["credits_used"], globex["requests"]) == ("300.0000", 2)


def test_response_has_no_raw_cost_anywhere(api_client, tenant: Tenant) -> None:
    spend(tenant, tenant.owner, "1")
    api_client.force_login(tenant.owner)

    response = api_client.get("/api/usage")

    assert not [k for k in keys_anywhere(response.json()) if "raw" in k.lower()]
    assert "0.1234567891" not in response.content.decode()
    assert "multiplier" not in response.content.decode()


def test_organisation_without_a_plan_sees_the_calendar_month(api_client, db: None) -> None:
    membership = MembershipFactory(organization=OrganizationFactory())
    api_client.force_login(membership.user)

    body = api_client.get("/api/usage").json()

    assert body["plan"] is None
    assert body["credits_used"] == "0.0000"
    assert body["period_start"].endswith("-01T00:00:00Z")


def test_anonymous_caller_is_refused(api_client, tenant: Tenant) -> None:
    response = api_client.get("/api/usage")

    assert response.status_code == 401
    assert "error" in response.json()
