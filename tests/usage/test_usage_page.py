"""The /usage/ page: credits used and left, by day and by assistant, and plan requests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import PlanRequest
from tests.conftest import Tenant
from tests.usage.factories import CostRecordFactory, UsageRecordFactory
from usage.selectors import DayUsage, UsageSummary
from usage.views import daily_bars

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "plan-requests"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def spend(tenant: Tenant, credits: str, family: str) -> None:
    record = UsageRecordFactory(
        model_call__organization=tenant.org,
        model_call__user=tenant.owner,
        model_call__assistant_family=family,
        display_units=Decimal(credits),
    )
    CostRecordFactory(model_call=record.model_call, raw_cost=Decimal("0.1234567891"))


def test_usage_page_needs_a_signed_in_user() -> None:
    assert Client().get("/usage/").status_code == 302


def test_usage_page_shows_credits_by_day_and_assistant_in_credits_only(tenant: Tenant) -> None:
    spend(tenant, "10.5", "coder")
    spend(tenant, "2.25", "writer")

    response = signed_in(tenant.owner).get("/usage/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="credits-used">12.75<' in html
    assert 'data-testid="credits-left">30,000.00<' in html
    assert "<td>Coder</td>" in html and "<td>Writer</td>" in html
    assert 'class="bars"' in html
    assert "height: 100%" in html  # today is the busiest day
    assert "0.1234567891" not in html and "0.12345" not in html  # no raw cost


def test_usage_page_does_not_show_another_tenants_usage(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    spend(other_tenant, "99", "analyst")

    html = signed_in(tenant.owner).get("/usage/").content.decode()

    assert "Analyst" not in html
    assert 'data-testid="credits-used">0.00<' in html
    assert "No usage this period yet" in html


def test_daily_bars_cover_every_day_so_far_scaled_to_the_busiest() -> None:
    start = timezone.now().replace(year=2026, month=3, day=1, hour=0, minute=0, second=0)
    summary = UsageSummary(
        start=start,
        end=start.replace(month=4),
        credits_used=Decimal(5),
        credits_left=Decimal(1),
        requests=3,
        tokens=10,
        by_day=(
            DayUsage(day=date(2026, 3, 2), credits=Decimal(4), requests=2, tokens=8),
            DayUsage(day=date(2026, 3, 4), credits=Decimal("0.001"), requests=1, tokens=2),
        ),
        by_family=(),
    )

    bars = daily_bars(summary, today=date(2026, 3, 5))

    assert [b.day for b in bars] == [date(2026, 3, 1) + timedelta(days=n) for n in range(5)]
    assert [b.percent for b in bars] == [0, 100, 0, 1, 0]


def test_plan_request_from_the_usage_page_shows_up_pending(tenant: Tenant) -> None:
    response = signed_in(tenant.member).post(
        "/usage/plan-requests/", {"plan": "team", "reason": "More credits"}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="plan-requests"')
    assert "<html" not in html
    assert "Team plan" in html and "Pending" in html
    assert PlanRequest.objects.for_org(tenant.org).get().requested_plan.slug == "team"


def test_plan_request_for_the_current_plan_is_refused_with_the_reason(tenant: Tenant) -> None:
    response = signed_in(tenant.owner).post("/usage/plan-requests/", {"plan": "pro"}, **HTMX)

    assert response.status_code == 200  # an htmx fragment with its error
    assert "already on the Pro plan" in response.content.decode()
    assert not PlanRequest.objects.exists()


def test_the_page_lists_only_the_users_own_plan_requests(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    PlanRequest.objects.create(organization=tenant.org, user=tenant.member, requested_family="x")
    PlanRequest.objects.create(
        organization=other_tenant.org, user=other_tenant.owner, requested_family="y"
    )

    html = signed_in(tenant.owner).get("/usage/").content.decode()

    assert "You have not asked for anything yet." in html
