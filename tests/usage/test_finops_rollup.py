"""The rollup under concurrency, and the FinOps page's queries not growing with the rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.concurrency import run_together
from tests.conftest import Tenant, make_tenant
from tests.usage.finops_traffic import MONTH, Traffic, month_generate, truth
from usage.finops import Period
from usage.models import UsageDaily, UsageDailyBuild
from usage.services.rollups import usage_daily_rollup

PERIOD = Period.month(MONTH)
QUERY = {"from": PERIOD.first.isoformat(), "to": PERIOD.last.isoformat()}


def traffic_of(tenant: Tenant, per_day: int) -> Traffic:
    traffic = Traffic(
        org=tenant.org,
        members=[tenant.owner, tenant.member],
        end_users=[f"customer-{n}" for n in range(per_day)] + [""],
        keys=[tenant.key, None],
    )
    month_generate(traffic, per_day=per_day)
    return traffic


@pytest.fixture
def committed_tenant(transactional_db: None) -> Tenant:
    # A transactional test's flush also empties the catalog the session seeded: reseed it.
    call_command("seed_catalog", verbosity=0)
    return make_tenant("Acme")


@pytest.mark.django_db(transaction=True)
def test_concurrent_rollups_of_the_same_days_leave_one_set_of_rows(
    committed_tenant: Tenant,
) -> None:
    traffic_of(committed_tenant, per_day=2)
    org = committed_tenant.org

    rebuilt = run_together(*(lambda: usage_daily_rollup(org=org, days=PERIOD.days),) * 3)

    # Each day was rebuilt by whoever got its lock first, or again: never half of both.
    assert sum(rebuilt) >= len(PERIOD.days)
    assert UsageDailyBuild.objects.for_org(org).count() == len(PERIOD.days)
    rows = UsageDaily.objects.for_org(org)
    expected = truth(org, PERIOD)[None]
    assert sum(r.requests for r in rows) == expected.requests
    assert sum(r.display_cost for r in rows) == expected.credits


@pytest.mark.django_db
@pytest.mark.parametrize("per_day", [1, 6])
def test_the_page_makes_the_same_queries_however_many_rows(
    tenant: Tenant, django_assert_max_num_queries: Any, per_day: int
) -> None:
    traffic_of(tenant, per_day=per_day)
    usage_daily_rollup(org=tenant.org, days=PERIOD.days[:20])  # the rest is read live
    client = Client()
    client.force_login(tenant.owner)
    client.get(reverse("finops:page"), QUERY)  # warm the session and content types

    # Per table: the built days, the rollups, the live days and the labels; never per row.
    with django_assert_max_num_queries(33):  # 2 of them: the billing notices
        response = client.get(reverse("finops:page"), QUERY)

    assert response.status_code == 200
