"""The staff console's pages (in-process): staff only (404 for anyone else), each page
renders its data, filters name the bad field, and actions go through the owning services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.redis import redis_sync
from adminpanel import urls as staff_urls
from billing.models import PlanRequestStatus
from routing.breakers import FAILURES, OPEN, breaker_states
from routing.models import AIModel
from tests.accounts.factories import AuditLogFactory, UserFactory
from tests.billing.factories import PlanFactory, PlanRequestFactory
from tests.chat.factories import ConversationFactory, MessageFactory
from tests.conftest import Tenant
from tests.usage.factories import AbuseFlagFactory, CostRecordFactory, ModelCallFactory
from usage.models import CallStatus

pytestmark = pytest.mark.django_db

SAMPLE_KWARGS = {
    "provider": "simulator",
    "model_id": 1,
    "request_pk": 1,
    "org_slug": "acme",
    "request_id": "req-1",
    "message_id": 1,
}


def staff_paths() -> list[str]:
    paths = []
    for pattern in staff_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = pattern.pattern.regex.groupindex
        kwargs = {name: SAMPLE_KWARGS[name] for name in names}
        paths.append(reverse(f"staff:{pattern.name}", kwargs=kwargs))
    return paths


@pytest.fixture
def staff() -> User:
    return UserFactory(is_staff=True, email="ops@switchboard.test")


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_every_staff_url_is_404_for_anyone_but_staff(tenant: Tenant) -> None:
    member, owner = Client(), Client()
    member.force_login(tenant.member)
    owner.force_login(tenant.owner)
    paths = staff_paths()
    assert len(paths) == len(staff_urls.urlpatterns) >= 11

    for client in (Client(), member, owner):
        for path in paths:
            assert client.get(path).status_code == 404, path
            assert client.post(path, {"reason": "x"}).status_code == 404, path
    assert not AuditLog.objects.exists()


def test_staff_home_leads_to_provider_health(staff_client: Client) -> None:
    response = staff_client.get(reverse("staff:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:health")


def test_provider_health_counts_errors_by_kind_fallbacks_and_percentiles(
    staff_client: Client, tenant: Tenant
) -> None:
    model = AIModel.objects.get(slug="sim/economy")
    first = ModelCallFactory(
        organization=tenant.org,
        model=model,
        status=CallStatus.FAILED,
        error="server_error: HTTP 500 from the provider",
        latency_ms=100,
        ttft_ms=None,
    )
    ModelCallFactory(
        organization=tenant.org,
        model=model,
        status=CallStatus.FAILED,
        error="timeout: no first byte",
        latency_ms=300,
        ttft_ms=None,
    )
    ModelCallFactory(
        organization=tenant.org, model=model, fallback_of=first, latency_ms=200, ttft_ms=50
    )

    response = staff_client.get(reverse("staff:health"))

    row = next(r for r in response.context["hour"] if r.model == "sim/economy")
    assert (row.requests, row.failed, row.fell_back) == (3, 2, 1)
    assert row.errors_by_kind == {"server_error": 1, "timeout": 1}
    assert row.latency_p50_ms == 200
    assert row.ttft_p50_ms == 50
    html = response.content.decode()
    assert "server_error 1, timeout 1" in html
    assert "67%" in html  # the error rate


def test_breaker_state_is_shown_and_its_reset_is_audited(
    staff_client: Client, staff: User, settings
) -> None:
    redis_sync().delete(OPEN, FAILURES)
    until_ms = int((timezone.now() + timedelta(seconds=20)).timestamp() * 1000)
    redis_sync().hset(OPEN, "simulator", until_ms)
    redis_sync().hset(FAILURES, "simulator", 6)

    page = staff_client.get(reverse("staff:health")).content.decode()
    assert "Open" in page and "Reset…" in page

    missing = staff_client.post(reverse("staff:breaker-reset", args=["simulator"]), {})
    assert missing.status_code == 302
    assert breaker_states(providers=["simulator"], now=timezone.now())["simulator"].state == "open"

    staff_client.post(
        reverse("staff:breaker-reset", args=["simulator"]), {"reason": "provider fixed"}
    )

    state = breaker_states(providers=["simulator"], now=timezone.now())["simulator"]
    assert (state.state, state.failures) == ("closed", 0)
    entry = AuditLog.objects.get(action="breaker.reset")
    assert entry.actor == staff
    assert entry.before == {"state": "open", "failures": 6}
    assert entry.after["reason"] == "provider fixed"


def test_models_page_shows_prices_context_and_plans(staff_client: Client) -> None:
    response = staff_client.get(reverse("staff:models"))

    rows = {row.model.slug: row for row in response.context["rows"]}
    assert "Team" in rows["sim/frontier"].plans
    html = response.content.decode()
    assert "sim/economy" in html and "Reason (audited)" in html


def test_model_change_without_a_reason_is_refused_and_changes_nothing(
    staff_client: Client,
) -> None:
    model = AIModel.objects.get(slug="sim/economy")
    assert model.active

    response = staff_client.post(
        reverse("staff:model-set-active", args=[model.pk]),
        {"active": "0", "reason": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert "reason: This field is required." in response.content.decode()
    model.refresh_from_db()
    assert model.active
    assert not AuditLog.objects.filter(action__startswith="model.").exists()


def test_plan_request_is_approved_from_the_queue_with_a_note(
    staff_client: Client, staff: User, tenant: Tenant
) -> None:
    plan_request = PlanRequestFactory(
        organization=tenant.org, user=tenant.member, requested_plan=PlanFactory(slug="bigger")
    )
    queue = staff_client.get(reverse("staff:plan-requests")).content.decode()
    assert f'data-testid="plan-request-{plan_request.pk}"' in queue

    staff_client.post(
        reverse("staff:plan-request-decide", args=[plan_request.pk]),
        {"decision": "approve", "note": "Welcome aboard"},
    )
    again = staff_client.post(
        reverse("staff:plan-request-decide", args=[plan_request.pk]), {"decision": "reject"}
    )

    plan_request.refresh_from_db()
    assert plan_request.status == PlanRequestStatus.APPROVED
    assert (plan_request.note, plan_request.decided_by) == ("Welcome aboard", staff)
    assert AuditLog.objects.filter(action="plan_request.approve").count() == 1
    assert "already approved" in staff_client.get(again["Location"]).content.decode()


def test_expensive_users_rank_by_raw_cost_with_flags_and_links(
    staff_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    cheap = ModelCallFactory(organization=tenant.org, user=tenant.member)
    dear = ModelCallFactory(organization=other_tenant.org, user=other_tenant.owner)
    CostRecordFactory(model_call=cheap, raw_cost=Decimal("0.5"), display_cost=Decimal("75"))
    CostRecordFactory(model_call=dear, raw_cost=Decimal("2"), display_cost=Decimal("30"))
    AbuseFlagFactory(organization=other_tenant.org, user=other_tenant.owner)

    by_raw = staff_client.get(reverse("staff:expensive"), {"window": "day"}).context
    by_credits = staff_client.get(reverse("staff:expensive"), {"order": "credits"}).context

    assert [r.org_slug for r in by_raw["organizations"]] == ["globex", "acme"]
    assert [r.org_slug for r in by_credits["organizations"]] == ["acme", "globex"]
    top = by_raw["members"][0]
    assert (top.key, top.flags) == (other_tenant.owner.email, 1)
    assert top.filter_query == f"org=globex&user={other_tenant.owner.email}"


def test_expensive_users_bad_window_is_400_naming_the_field(staff_client: Client) -> None:
    response = staff_client.get(reverse("staff:expensive"), {"window": "forever"})

    assert response.status_code == 400
    assert "window: Select a valid choice" in response.content.decode()


def test_call_filters_narrow_the_list_and_bad_ones_name_the_field(
    staff_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = ModelCallFactory(organization=tenant.org, status=CallStatus.FAILED)
    ModelCallFactory(organization=other_tenant.org)

    listed = staff_client.get(reverse("staff:calls"), {"org": "acme", "status": "failed"})
    unknown = staff_client.get(reverse("staff:calls"), {"org": "nope"})
    bad_time = staff_client.get(reverse("staff:calls"), {"since": "yesterday-ish"})

    assert [c.pk for c in listed.context["page"]] == [mine.pk]
    assert unknown.status_code == 400
    assert "org: no organisation &#x27;nope&#x27;." in unknown.content.decode()
    assert bad_time.status_code == 400
    assert "since: Enter a valid date/time." in bad_time.content.decode()


def test_call_filter_over_htmx_returns_only_the_results(
    staff_client: Client, tenant: Tenant
) -> None:
    ModelCallFactory(organization=tenant.org)

    response = staff_client.get(
        reverse("staff:calls"),
        {"org": "acme"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="call-results",
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="call-results"')
    assert "staff-nav" not in html


def test_audit_log_filters_by_action_prefix_and_actor(staff_client: Client, staff: User) -> None:
    AuditLogFactory(action="model.deactivate", actor=staff)
    AuditLogFactory(action="model.activate")
    AuditLogFactory(action="plan_request.approve", actor=staff)

    by_action = staff_client.get(reverse("staff:audit"), {"action": "model."}).context["page"]
    by_both = staff_client.get(
        reverse("staff:audit"), {"action": "model.", "actor": staff.email}
    ).context["page"]

    assert sorted(row.action for row in by_action) == ["model.activate", "model.deactivate"]
    assert [row.action for row in by_both] == ["model.deactivate"]


def test_audit_log_page_offers_no_way_to_change_a_row(staff_client: Client) -> None:
    AuditLogFactory(action="model.deactivate")

    html = staff_client.get(reverse("staff:audit")).content.decode()

    assert "model.deactivate" in html
    assert 'method="post"' not in html.split('id="audit-results"')[1]


def test_a_request_is_only_found_under_its_own_organisation(
    staff_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    call = ModelCallFactory(organization=tenant.org, request_id="req-isolated")

    own = staff_client.get(reverse("staff:trace", args=[tenant.org.slug, call.request_id]))
    other = staff_client.get(reverse("staff:trace", args=[other_tenant.org.slug, call.request_id]))

    assert own.status_code == 200
    assert other.status_code == 404


def test_reveal_under_another_organisation_is_404_and_not_audited(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    conversation = ConversationFactory(organization=tenant.org, user=tenant.owner)
    message = MessageFactory(conversation=conversation, content="private words")
    ModelCallFactory(organization=tenant.org, conversation=conversation, request_id="req-r")
    revealer = UserFactory(is_staff=True)
    revealer.user_permissions.add(Permission.objects.get(codename="reveal_message"))
    client = Client()
    client.force_login(revealer)

    url = reverse("staff:message-reveal", args=[other_tenant.org.slug, "req-r", message.pk])
    response = client.post(url, {"reason": "curious"})

    assert response.status_code == 404
    assert "private words" not in response.content.decode()
    assert not AuditLog.objects.filter(action="message.reveal").exists()


@pytest.mark.parametrize("rows", [2, 12])
def test_call_list_runs_a_fixed_number_of_queries(
    staff_client: Client, tenant: Tenant, rows: int, django_assert_num_queries
) -> None:
    for _ in range(rows):
        CostRecordFactory(model_call=ModelCallFactory(organization=tenant.org))

    # session, user, memberships (the top bar), the organisation filter, then the count and
    # the page (calls joined to their cost): none per row
    with django_assert_num_queries(6):
        response = staff_client.get(reverse("staff:calls"), {"org": tenant.org.slug})

    assert len(response.context["page"]) == rows


@pytest.mark.parametrize("rows", [1, 6])
def test_audit_log_runs_a_fixed_number_of_queries(
    staff_client: Client, rows: int, django_assert_num_queries
) -> None:
    AuditLogFactory.create_batch(rows)

    # session, user, memberships, the count and the page
    with django_assert_num_queries(5):
        response = staff_client.get(reverse("staff:audit"))

    assert len(response.context["page"]) == rows
