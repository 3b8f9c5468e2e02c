"""Every list API reads a fixed number of queries however many rows it returns (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.accounts.factories import ApiKeyFactory, UserFactory
from tests.billing.factories import PlanRequestFactory
from tests.conftest import Tenant, bearer
from tests.usage.factories import CostRecordFactory, UsageRecordFactory

pytestmark = pytest.mark.django_db


def add_keys(tenant: Tenant, n: int) -> None:
    for _ in range(n):
        ApiKeyFactory(organization=tenant.org, user=tenant.owner)


def add_plan_requests(tenant: Tenant, n: int) -> None:
    for _ in range(n):
        PlanRequestFactory(organization=tenant.org, user=UserFactory(), requested_plan=None,
                           requested_family="coder")  # fmt: skip


def add_usage(tenant: Tenant, n: int) -> None:
    for _ in range(n):
        record = UsageRecordFactory(model_call__organization=tenant.org)
        CostRecordFactory(model_call=record.model_call)


LISTS: dict[str, tuple[str, Callable[[Tenant, int], None]]] = {
    "keys": ("/api/keys", add_keys),
    "plan requests": ("/api/plan-requests", add_plan_requests),
    "staff model calls": ("/api/admin/model-calls", add_usage),
    "usage by day and assistant": ("/api/usage", add_usage),
    "models": ("/api/ai/models", lambda tenant, n: None),
}


def queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_a_list_api_costs_the_same_queries_for_one_row_or_many(
    tenant: Tenant, django_assert_num_queries: Any, name: str
) -> None:
    url, add = LISTS[name]
    client = APIClient()
    if url.startswith("/api/admin/"):
        client.force_authenticate(UserFactory(is_staff=True))
    else:
        client.credentials(**bearer(tenant))
    add(tenant, 1)
    queries(client, url)  # first use: snapshots, the key's touch
    one_row = queries(client, url)
    add(tenant, 8)

    with django_assert_num_queries(one_row):
        client.get(url)
