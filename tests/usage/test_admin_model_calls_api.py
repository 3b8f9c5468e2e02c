"""GET /api/admin/model-calls: staff's inspector over every organisation's calls."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.chat.factories import MessageFactory
from tests.conftest import Tenant, bearer
from tests.usage.factories import CostRecordFactory, ModelCallFactory
from usage.models import CallStatus, ModelCall

pytestmark = pytest.mark.django_db

URL = "/api/admin/model-calls"


@pytest.fixture
def staff_client(api_client):
    api_client.force_login(UserFactory(is_staff=True))
    return api_client


def test_staff_sees_calls_of_every_organisation_with_costs(
    staff_client, tenant: Tenant, other_tenant: Tenant
) -> None:
    acme = ModelCallFactory(organization=tenant.org, user=tenant.member, request_id="req-acme")
    CostRecordFactory(model_call=acme)
    ModelCallFactory(organization=other_tenant.org, user=other_tenant.owner)

    body = staff_client.get(URL).json()

    assert body["count"] == 2
    assert {row["org"] for row in body["results"]} == {"acme", "globex"}
    row = next(r for r in body["results"] if r["request_id"] == "req-acme")
    assert row == {
        "id": acme.pk,
        "request_id": "req-acme",
        "attempt": 1,
        "org": "acme",
        "user": tenant.member.email,
        "provider": acme.provider.slug,
        "model": acme.model.slug,
        "assistant_family": "generalist",
        "task_type": "chat",
        "status": "succeeded",
        "error": "",
        "latency_ms": 850,
        "ttft_ms": 220,
        "input_tokens": 120,
        "output_tokens": 80,
        "raw_cost": "0.0000660000",
        "display_cost": "0.0000990000",
        "benchmark_cost": "0.0011000000",
        "route_reasons": ["cheapest model meeting the bar"],
        "at": row["at"],
    }


def test_unbilled_call_has_null_costs(staff_client, tenant: Tenant) -> None:
    ModelCallFactory(organization=tenant.org, status=CallStatus.FAILED, error="upstream 500")

    row = staff_client.get(URL).json()["results"][0]

    assert (row["status"], row["error"]) == ("failed", "upstream 500")
    assert (row["raw_cost"], row["display_cost"], row["benchmark_cost"]) == (None, None, None)


def test_prompts_are_never_included(staff_client, tenant: Tenant) -> None:
    call = ModelCallFactory(organization=tenant.org)
    MessageFactory(
        conversation__organization=tenant.org,
        content="my bank password is hunter2",
        model_call=call,
    )

    response = staff_client.get(URL)

    assert "hunter2" not in response.content.decode()
    assert not {"prompt", "content", "messages"} & set(response.json()["results"][0])


def test_filters_narrow_the_list(staff_client, tenant: Tenant, other_tenant: Tenant) -> None:
    wanted = ModelCallFactory(
        organization=tenant.org, user=tenant.member, status=CallStatus.FAILED, request_id="req-x"
    )
    ModelCallFactory(organization=tenant.org, user=tenant.owner, model=wanted.model)
    ModelCallFactory(organization=other_tenant.org, model=wanted.model, status=CallStatus.FAILED)
    filters = {
        "org": {"org": "acme", "model": wanted.model.slug, "status": "failed"},
        "provider": {"provider": wanted.provider.slug, "org": "acme", "status": "failed"},
        "user": {"user": tenant.member.email},
        "request_id": {"request_id": "req-x"},
    }

    for name, query in filters.items():
        ids = [row["id"] for row in staff_client.get(URL, query).json()["results"]]
        assert ids == [wanted.pk], name


def test_since_and_until_bound_the_time(staff_client, tenant: Tenant) -> None:
    now = timezone.now()
    old, recent = (
        ModelCallFactory(organization=tenant.org),
        ModelCallFactory(organization=tenant.org),
    )
    ModelCall.objects.filter(pk=old.pk).update(at=now - timedelta(days=3))
    ModelCall.objects.filter(pk=recent.pk).update(at=now - timedelta(hours=1))

    since = staff_client.get(URL, {"since": (now - timedelta(days=1)).isoformat()}).json()
    until = staff_client.get(URL, {"until": (now - timedelta(days=1)).isoformat()}).json()

    assert [r["id"] for r in since["results"]] == [recent.pk]
    assert [r["id"] for r in until["results"]] == [old.pk]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2025-13-45T00:00:00Z"}, "until"),
        ({"org": "no-such-org"}, "org"),
        ({"provider": "no-such-provider"}, "provider"),
        ({"model": "no/such-model"}, "model"),
        ({"user": "nobody@example.test"}, "user"),
        ({"status": "exploded"}, "status"),
        ({"limit": "201"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_invalid_filter_is_rejected_naming_the_field(
    staff_client, tenant: Tenant, query: dict[str, str], param: str
) -> None:
    response = staff_client.get(URL, query)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_list_is_paginated_newest_first(staff_client, tenant: Tenant) -> None:
    calls = [ModelCallFactory(organization=tenant.org) for _ in range(5)]

    page = staff_client.get(URL, {"limit": 2, "offset": 1}).json()

    assert (page["count"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [r["id"] for r in page["results"]] == [calls[3].pk, calls[2].pk]


def test_tenant_owner_is_refused_by_session_or_key(api_client, tenant: Tenant) -> None:
    ModelCallFactory(organization=tenant.org)

    by_key = api_client.get(URL, **bearer(tenant))
    api_client.force_login(tenant.owner)
    by_session = api_client.get(URL)

    for response in (by_key, by_session):
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "permission_error"
        assert "results" not in response.json()


def test_anonymous_caller_is_refused(api_client) -> None:
    response = api_client.get(URL)

    assert response.status_code == 401


@pytest.mark.parametrize("rows", [2, 30])
def test_query_count_does_not_grow_with_rows(
    staff_client, tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries, rows: int
) -> None:
    for n in range(rows):
        owner = tenant if n % 2 else other_tenant
        call = ModelCallFactory(organization=owner.org, user=owner.member)
        CostRecordFactory(model_call=call, raw_cost=Decimal(n))

    with django_assert_max_num_queries(6):
        body = staff_client.get(URL, {"limit": 200}).json()

    assert len(body["results"]) == rows
