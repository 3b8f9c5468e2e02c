"""The dashboard at /app/: plan, credits, this period's use and the organisation's recent answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Tenant
from tests.usage.factories import UsageRecordFactory

pytestmark = pytest.mark.django_db


def answered(tenant: Tenant, *, user, credits: str, family: str = "coder") -> None:
    UsageRecordFactory(
        model_call__organization=tenant.org,
        model_call__user=user,
        model_call__assistant_family=family,
        model_call__output_tokens=1200,
        display_units=Decimal(credits),
    )


def dashboard(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_activity_lists_the_organisations_answers_for_every_member(tenant: Tenant) -> None:
    answered(tenant, user=tenant.owner, credits="1.5")
    answered(tenant, user=tenant.member, credits="2.25", family="writer")

    html = dashboard(tenant.member)

    assert "No answers yet" not in html
    assert 'data-testid="recent-activity"' in html
    assert tenant.owner.email in html and tenant.member.email in html
    assert "<td>Coder</td>" in html and "<td>Writer</td>" in html
    assert 'data-testid="credits-used">3.75<' in html
    assert "1,320" in html  # tokens with a thousands separator


def test_activity_never_shows_another_organisations_answers(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    answered(other_tenant, user=other_tenant.owner, credits="9")

    html = dashboard(tenant.owner)

    assert other_tenant.owner.email not in html
    assert "No answers yet this period" in html
    assert 'data-testid="credits-used">0.00<' in html


def test_dashboard_reads_recent_activity_in_a_fixed_number_of_queries(
    tenant: Tenant, django_assert_num_queries
) -> None:
    for _ in range(8):  # one query for all rows, not one per row
        answered(tenant, user=tenant.owner, credits="1")
    client = Client()
    client.force_login(tenant.owner)
    client.get(reverse("dashboard"))  # warm the session

    with django_assert_num_queries(12):  # 2 of them: the billing notices
        client.get(reverse("dashboard"))
