"""POST/GET /api/plan-requests: members ask for a plan or an assistant family."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog, Role
from billing.models import Plan, PlanRequest, PlanRequestStatus
from billing.services import plan_request_create, plan_request_decide
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.billing.factories import PlanFactory, PlanRequestFactory
from tests.conftest import Tenant, bearer, make_tenant

pytestmark = pytest.mark.django_db

URL = "/api/plan-requests"


def ask(api_client, user, **body):
    api_client.force_login(user)
    return api_client.post(URL, body, format="json")


def test_member_asks_for_a_plan(api_client, tenant: Tenant) -> None:
    response = ask(api_client, tenant.member, plan="team", reason="  Launch week  ")

    assert response.status_code == 201
    body = response.json()
    created = PlanRequest.objects.for_org(tenant.org).get(pk=body["id"])
    assert (created.user, created.requested_plan.slug, created.status) == (
        tenant.member,
        "team",
        PlanRequestStatus.PENDING,
    )
    assert body == {
        "id": created.pk,
        "user": tenant.member.email,
        "plan": "team",
        "plan_name": "Team",
        "family": "",
        "reason": "Launch week",
        "status": "pending",
        "created_at": body["created_at"],
        "decided_at": None,
        "note": "",
    }


def test_member_asks_for_an_assistant_family(api_client, free_tenant: Tenant) -> None:
    response = ask(api_client, free_tenant.member, family="coder")

    assert response.status_code == 201
    assert (response.json()["plan"], response.json()["family"]) == (None, "coder")
    assert PlanRequest.objects.for_org(free_tenant.org).get().requested_family == "coder"


def test_api_key_files_the_request_as_its_user(api_client, tenant: Tenant) -> None:
    response = api_client.post(URL, {"plan": "team"}, format="json", **bearer(tenant))

    assert response.status_code == 201
    assert response.json()["user"] == tenant.owner.email


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "plan"),
        ({"reason": "please"}, "plan"),
        ({"plan": "team", "family": "coder"}, "family"),
        ({"plan": "no-such-plan"}, "plan"),
        ({"family": "no-such-family"}, "family"),
        ({"family": "not a slug!"}, "family"),
    ],
)
def test_invalid_request_is_rejected_naming_the_field(
    api_client, free_tenant: Tenant, body: dict[str, str], param: str
) -> None:
    response = ask(api_client, free_tenant.member, **body)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not PlanRequest.objects.exists()


def test_hidden_plan_cannot_be_requested(api_client, tenant: Tenant) -> None:
    hidden = PlanFactory(is_public=False)

    response = ask(api_client, tenant.member, plan=hidden.slug)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "plan"


def test_asking_for_the_current_plan_is_rejected(api_client, tenant: Tenant) -> None:
    response = ask(api_client, tenant.member, plan="pro")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "plan"
    assert "already" in response.json()["error"]["message"]
    assert not PlanRequest.objects.exists()


def test_asking_for_a_family_already_in_the_plan_is_rejected(api_client, tenant: Tenant) -> None:
    response = ask(api_client, tenant.member, family="coder")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "family"


def test_second_pending_request_for_the_same_thing_gets_409_with_the_first(
    api_client, tenant: Tenant
) -> None:
    first = ask(api_client, tenant.member, plan="team").json()

    second = ask(api_client, tenant.member, plan="team", reason="again")

    assert second.status_code == 409
    assert second.json()["error"]["existing_id"] == first["id"]
    assert PlanRequest.objects.for_org(tenant.org).count() == 1


def test_other_users_and_other_things_are_not_duplicates(api_client, free_tenant: Tenant) -> None:
    responses = [
        ask(api_client, free_tenant.member, plan="team"),
        ask(api_client, free_tenant.owner, plan="team"),
        ask(api_client, free_tenant.member, plan="pro"),
        ask(api_client, free_tenant.member, family="coder"),
    ]

    assert [r.status_code for r in responses] == [201, 201, 201, 201]


def test_a_decided_request_can_be_asked_again(api_client, tenant: Tenant) -> None:
    first = ask(api_client, tenant.member, plan="team").json()
    plan_request_decide(
        request=PlanRequest.objects.get(pk=first["id"]),
        approve=False,
        actor=UserFactory(is_staff=True),
        note="Not this month",
    )

    again = ask(api_client, tenant.member, plan="team")

    assert again.status_code == 201


def test_member_lists_own_requests_with_the_decision(api_client, tenant: Tenant) -> None:
    mine = PlanRequestFactory(organization=tenant.org, user=tenant.member)
    PlanRequestFactory(organization=tenant.org, user=tenant.owner)
    plan_request_decide(
        request=mine, approve=False, actor=UserFactory(is_staff=True), note="Budget is frozen"
    )
    api_client.force_login(tenant.member)

    listed = api_client.get(URL).json()

    assert [r["id"] for r in listed] == [mine.pk]
    assert listed[0]["status"] == "rejected"
    assert listed[0]["note"] == "Budget is frozen"
    assert listed[0]["decided_at"] is not None


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_list_all_of_the_organisations_requests(
    api_client, tenant: Tenant, role: Role
) -> None:
    manager = MembershipFactory(organization=tenant.org, role=role).user
    requests = [
        PlanRequestFactory(organization=tenant.org, user=tenant.member),
        PlanRequestFactory(organization=tenant.org, user=tenant.owner),
    ]
    api_client.force_login(manager)

    listed = api_client.get(URL).json()

    assert {r["id"] for r in listed} == {r.pk for r in requests}


def test_organisation_never_sees_another_organisations_requests(
    api_client, tenant: Tenant, other_tenant: Tenant
) -> None:
    ours = PlanRequestFactory(organization=tenant.org, user=tenant.member)
    theirs = PlanRequestFactory(organization=other_tenant.org, user=other_tenant.member)

    acme = api_client.get(URL, **bearer(tenant)).json()
    globex = api_client.get(URL, **bearer(other_tenant)).json()

    assert [r["id"] for r in acme] == [ours.pk]
    assert [r["id"] for r in globex] == [theirs.pk]


def test_a_pending_request_in_another_organisation_is_no_duplicate(
    api_client, tenant: Tenant, other_tenant: Tenant
) -> None:
    MembershipFactory(organization=other_tenant.org, user=tenant.member)
    elsewhere = PlanRequestFactory(
        organization=other_tenant.org, user=tenant.member, requested_plan__slug="x-team"
    )

    response = ask(api_client, tenant.member, plan="x-team")  # acts in Acme, its first org

    assert response.status_code == 201
    assert response.json()["id"] != elsewhere.pk
    assert PlanRequest.objects.for_org(tenant.org).get().user == tenant.member


def test_list_query_count_does_not_grow_with_rows(
    api_client, tenant: Tenant, django_assert_max_num_queries
) -> None:
    for _ in range(10):
        PlanRequestFactory(organization=tenant.org, user=tenant.member)
    api_client.force_login(tenant.owner)

    with django_assert_max_num_queries(6):
        listed = api_client.get(URL).json()

    assert len(listed) == 10


def test_anonymous_caller_is_refused(api_client, tenant: Tenant) -> None:
    response = api_client.post(URL, {"plan": "team"}, format="json")

    assert response.status_code == 401
    assert not PlanRequest.objects.exists()


def test_approving_a_plan_settles_the_requests_it_satisfies(free_tenant: Tenant) -> None:
    tenant, other, staff = free_tenant, make_tenant("Freebie", "free"), UserFactory(is_staff=True)
    team, free = Plan.objects.get(slug="team"), Plan.objects.get(slug="free")
    family = next(f for f in team.allowed_families if f not in free.allowed_families)
    asked_family = plan_request_create(org=tenant.org, user=tenant.member, family=family)
    same_plan = plan_request_create(org=tenant.org, user=tenant.member, plan=team)
    owner_plan = plan_request_create(org=tenant.org, user=tenant.owner, plan=team)
    theirs = plan_request_create(org=other.org, user=other.owner, family=family)

    plan_request_decide(request=owner_plan, approve=True, actor=staff)

    for request in (asked_family, same_plan):
        request.refresh_from_db()
        assert request.status == PlanRequestStatus.APPROVED
        assert request.decided_by == staff
        assert f"#{owner_plan.pk}" in request.note
    theirs.refresh_from_db()
    assert theirs.status == PlanRequestStatus.PENDING  # another organisation's plan is theirs
    approvals = AuditLog.objects.filter(action="plan_request.approve", organization=tenant.org)
    assert approvals.count() == 3
