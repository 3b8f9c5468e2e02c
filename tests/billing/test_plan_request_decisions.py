"""A plan request from ask to answer: staff decide in Django admin, the plan changes through
one service with an AuditLog row, and the requester is e-mailed the decision once. A paid
plan with payments configured goes to the owners as a checkout link instead."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditLog, User
from billing.models import Plan, PlanRequest, PlanRequestStatus
from billing.selectors import subscription_get_live
from billing.services import plan_request_create, plan_request_decide
from tests.conftest import Tenant, make_tenant

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:billing_planrequest_changelist")


@pytest.fixture
def free(db: None) -> Tenant:
    return make_tenant("Initech", plan="free")


def _ask_for_pro(tenant: Tenant) -> PlanRequest:
    return plan_request_create(
        org=tenant.org, user=tenant.member, plan=Plan.objects.get(slug="pro"), reason="Launch"
    )


def _decide_in_admin(client: Client, request: PlanRequest, action: str, capture: Any) -> None:
    with capture(execute=True):
        response = client.post(CHANGELIST, {"action": action, "_selected_action": [request.pk]})
    assert response.status_code == 302


def test_an_approval_in_admin_changes_the_plan_audits_it_and_mails_the_requester_once(
    free: Tenant, admin_client: Client, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    request = _ask_for_pro(free)

    _decide_in_admin(admin_client, request, "approve", django_capture_on_commit_callbacks)

    live = subscription_get_live(org=free.org)
    assert live is not None and live.plan.slug == "pro"
    log = AuditLog.objects.get(action="plan_request.approve")
    assert (log.actor, log.organization) == (admin_user, free.org)
    [message] = mail.outbox
    assert message.to == [free.member.email]
    assert "the Pro plan" in message.subject and "approved" in message.subject
    assert "It is in effect now." in message.body


def test_a_rejection_keeps_the_plan_and_tells_the_requester_with_the_note(
    free: Tenant, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    request = _ask_for_pro(free)

    with django_capture_on_commit_callbacks(execute=True):
        plan_request_decide(
            request=request, approve=False, actor=admin_user, note="Talk to sales first."
        )

    live = subscription_get_live(org=free.org)
    assert live is not None and live.plan.slug == "free"
    [message] = mail.outbox
    assert "rejected" in message.subject and "Talk to sales first." in message.body


def test_a_decision_that_rolls_back_mails_nobody(free: Tenant, admin_user: User) -> None:
    request = _ask_for_pro(free)
    plan_request_decide(request=request, approve=True, actor=admin_user)  # on_commit never runs

    assert mail.outbox == []


def test_an_approved_paid_plan_sends_the_owners_a_checkout_link_instead_of_switching(
    free: Tenant, admin_user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_0123456789"
    Plan.objects.filter(slug="pro").update(stripe_price_id="price_pro_monthly")
    request = _ask_for_pro(free)

    with django_capture_on_commit_callbacks(execute=True):
        decided = plan_request_decide(request=request, approve=True, actor=admin_user)

    live = subscription_get_live(org=free.org)
    assert live is not None and live.plan.slug == "free"  # nothing switched silently
    assert decided.status == PlanRequestStatus.APPROVED and "subscribe" in decided.note
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {(free.member.email,), (free.owner.email,)}
    assert "/app/billing/#plans" in by_recipient[(free.owner.email,)].body
    assert "owners of Initech were sent a link" in by_recipient[(free.member.email,)].body


def test_the_member_sees_the_decision_on_the_usage_page(free: Tenant, admin_user: User) -> None:
    plan_request_decide(request=_ask_for_pro(free), approve=True, actor=admin_user, note="Enjoy")
    client = Client()
    client.force_login(free.member)

    page = client.get("/usage/").content.decode()

    assert "status-approved" in page and "Enjoy" in page
