"""Monthly budget caps: billing counts each month's spend per organisation, member and key;
a chat that would pass a cap is refused before any provider is called; at 80% the owners
and admins hear about it once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from accounts.models import AuditLog
from billing.budget import budget_alerts_send, budget_cap_set
from billing.models import BudgetAlert, BudgetCap, BudgetSpend, CreditLedger, LedgerKind
from tests.conftest import Tenant, make_tenant
from tests.usage.test_metering import finish, start

pytestmark = pytest.mark.django_db


def _bill(tenant: Tenant, request_id: str) -> Decimal:
    call = start(tenant, request_id)
    billed = finish(tenant, call)
    assert billed is not None
    return -CreditLedger.objects.for_org(tenant.org).get(model_call=call).credits


def _spend(tenant: Tenant, **subject: Any) -> Decimal:
    rows = BudgetSpend.objects.for_org(tenant.org).filter(
        user=subject.get("user"), api_key=subject.get("api_key")
    )
    return sum((row.credits for row in rows), Decimal(0))


def test_billing_counts_the_months_spend_of_the_organisation_its_member_and_key(
    tenant: Tenant,
) -> None:
    used = _bill(tenant, "req-1") + _bill(tenant, "req-2")

    ledger = CreditLedger.objects.for_org(tenant.org).filter(kind=LedgerKind.USAGE)
    assert used == -sum(row.credits for row in ledger) > 0
    assert _spend(tenant) == used
    assert _spend(tenant, user=tenant.member) == used  # `start` bills the member
    assert _spend(tenant, api_key=tenant.key) == used


def test_a_cap_reaching_80_percent_records_one_alert_and_mails_the_managers_once(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    first = _bill(tenant, "req-1")
    budget_cap_set(org=tenant.org, actor=tenant.owner, monthly_credits=first * Decimal("2.4"))

    _bill(tenant, "req-2")  # 83% of the cap
    _bill(tenant, "req-3")  # 125%: still one alert
    with django_capture_on_commit_callbacks(execute=True):
        sent = budget_alerts_send()
    with django_capture_on_commit_callbacks(execute=True):
        sent_again = budget_alerts_send()

    assert BudgetAlert.objects.for_org(tenant.org).count() == 1
    assert (sent, sent_again) == (1, 0)
    [message] = mail.outbox
    assert message.to == [tenant.owner.email]  # the owner manages; the member has no cap
    assert "of the organisation's monthly budget cap" in message.body
    assert "/app/billing/#caps" in message.body


def test_no_cap_means_no_alert(tenant: Tenant) -> None:
    for n in range(3):
        _bill(tenant, f"req-{n}")

    assert not BudgetAlert.objects.exists()
    assert budget_alerts_send() == 0


def test_a_cap_is_set_only_by_a_manager_on_its_own_members_and_keys(tenant: Tenant) -> None:
    other = make_tenant("Globex")

    with pytest.raises(PermissionDenied):
        budget_cap_set(org=tenant.org, actor=tenant.member, monthly_credits=Decimal(10))
    with pytest.raises(ValidationError) as outsider:
        budget_cap_set(
            org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(10), user=other.member
        )
    with pytest.raises(ValidationError) as their_key:
        budget_cap_set(
            org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(10), api_key=other.key
        )
    with pytest.raises(ValidationError) as negative:
        budget_cap_set(org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(-1))

    assert "user" in outsider.value.message_dict
    assert "api_key" in their_key.value.message_dict
    assert "monthly_credits" in negative.value.message_dict
    assert not BudgetCap.objects.exists()


def test_setting_and_removing_a_cap_is_audited(tenant: Tenant) -> None:
    budget_cap_set(
        org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(25), user=tenant.member
    )
    budget_cap_set(
        org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(40), user=tenant.member
    )
    budget_cap_set(org=tenant.org, actor=tenant.owner, monthly_credits=None, user=tenant.member)

    actions = list(
        AuditLog.objects.filter(organization=tenant.org, action__startswith="budget_cap")
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert actions == [
        ("budget_cap.set", {}, {"monthly_credits": "25"}),
        ("budget_cap.set", {"monthly_credits": "25.0000000000"}, {"monthly_credits": "40"}),
        ("budget_cap.remove", {"monthly_credits": "40.0000000000"}, {}),
    ]
    assert not BudgetCap.objects.exists()


def _owner_client(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(tenant.owner)
    return client


def test_the_cap_form_saves_a_members_cap_and_shows_it(tenant: Tenant) -> None:
    client = _owner_client(tenant)

    response = client.post(
        "/app/billing/caps/",
        {"subject": f"member:{tenant.member.pk}", "monthly_credits": "120.50"},
        headers={"HX-Request": "true", "HX-Target": "caps"},
    )

    assert response.status_code == 200 and "Budget cap saved." in response.content.decode()
    cap = BudgetCap.objects.for_org(tenant.org).get()
    assert (cap.user, cap.monthly_credits) == (tenant.member, Decimal("120.50"))
    assert f"Member {tenant.member.email}" in client.get("/app/billing/").content.decode()


@pytest.mark.parametrize(
    ("data", "field_text"),
    [
        ({"subject": "organization", "monthly_credits": "lots"}, "Enter a number."),
        ({"subject": "organization", "monthly_credits": "-5"}, "greater than or equal to 0"),
        ({"subject": "member:999999", "monthly_credits": "5"}, "Select a valid choice."),
    ],
)
def test_bad_cap_input_is_named_under_its_field_and_changes_nothing(
    tenant: Tenant, data: dict[str, str], field_text: str
) -> None:
    response = _owner_client(tenant).post("/app/billing/caps/", data)

    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert not BudgetCap.objects.exists()


def test_a_member_cannot_set_caps(tenant: Tenant) -> None:
    client = Client()
    client.force_login(tenant.member)

    response = client.post(
        "/app/billing/caps/", {"subject": "organization", "monthly_credits": "1"}
    )

    assert response.status_code == 403
    assert not BudgetCap.objects.exists()


def test_the_cap_form_offers_only_this_organisations_members_and_keys(tenant: Tenant) -> None:
    other = make_tenant("Globex")

    page = _owner_client(tenant).get("/app/billing/").content.decode()

    assert tenant.member.email in page
    assert other.member.email not in page and other.key.prefix not in page
