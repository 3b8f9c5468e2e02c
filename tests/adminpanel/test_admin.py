"""The Django admin: every model renders, only staff get in, records stay read-only."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, AuditLog, User
from billing.models import BudgetCap, CreditLedger, LedgerKind, PlanRequestStatus, StripeEvent
from routing.models import AIModel, ConfidenceChange
from tests.accounts.factories import (
    ApiKeyFactory,
    AuditLogFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.billing.factories import (
    BudgetCapFactory,
    CreditBalanceFactory,
    CreditLedgerFactory,
    PlanFactory,
    PlanRequestFactory,
    SubscriptionFactory,
    UserEntitlementFactory,
)
from tests.chat.factories import ConversationFactory, MessageFactory
from tests.conftest import Tenant
from tests.routing.factories import (
    AIModelFactory,
    AnswerFeedbackFactory,
    AssistantFactory,
    CachePolicyFactory,
    ConfidenceCellFactory,
    ModelProviderFactory,
    PromptCheckFactory,
    RoutingRuleFactory,
    SemanticCacheEntryFactory,
    ShadowAuditFactory,
)
from tests.usage.factories import (
    AbuseFlagFactory,
    CostRecordFactory,
    ModelCallFactory,
    MonthlyReportFactory,
    UsageDailyFactory,
    UsageRecordFactory,
)
from usage.models import ModelCall

pytestmark = pytest.mark.django_db

_names = itertools.count()


def _label(model: type[Model]) -> str:
    return model._meta.label


def _url(obj_or_model: Any, page: str, *args: Any) -> str:
    opts = obj_or_model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=args)


def _linked_model_call() -> ModelCall:
    """A call with every optional link filled, so changelists have joins to get wrong."""
    conversation = ConversationFactory()
    org, user = conversation.organization, conversation.user
    key = ApiKeyFactory(organization=org, user=user)
    return ModelCallFactory(organization=org, user=user, api_key=key, conversation=conversation)


def _email_address() -> EmailAddress:
    user = UserFactory()
    return EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


def _prompt_check() -> Any:
    conversation = ConversationFactory()
    return PromptCheckFactory(
        organization=conversation.organization, user=conversation.user, conversation=conversation
    )


def _usage_ledger_row() -> CreditLedger:
    return CreditLedgerFactory(
        model_call=ModelCallFactory(), kind=LedgerKind.USAGE, credits=Decimal("-0.50")
    )


def _assistant_reply() -> Any:
    conversation = ConversationFactory()
    call = ModelCallFactory(
        organization=conversation.organization, user=conversation.user, conversation=conversation
    )
    return MessageFactory(conversation=conversation, role="assistant", model_call=call)


def _key_cap() -> BudgetCap:
    key = ApiKeyFactory()
    return BudgetCapFactory(organization=key.organization, api_key=key)


# One way to make a realistic row of every model the admin shows.
ROW_FACTORIES: dict[str, Callable[[], Any]] = {
    "auth.Group": lambda: Group.objects.create(name=f"test-group-{next(_names)}"),
    "account.EmailAddress": _email_address,
    "accounts.User": UserFactory,
    "accounts.Organization": lambda: MembershipFactory().organization,
    "accounts.Membership": MembershipFactory,
    "accounts.ApiKey": ApiKeyFactory,
    "accounts.AuditLog": AuditLogFactory,
    "billing.Plan": PlanFactory,
    "billing.Subscription": SubscriptionFactory,
    "billing.UserEntitlement": UserEntitlementFactory,
    "billing.PlanRequest": PlanRequestFactory,
    "billing.CreditLedger": _usage_ledger_row,
    "billing.CreditBalance": CreditBalanceFactory,
    "billing.BudgetCap": lambda: _key_cap(),
    "billing.StripeEvent": lambda: StripeEvent.objects.create(
        event_id=f"evt_test_{next(_names)}", type="invoice.paid", created=timezone.now()
    ),
    "routing.ModelProvider": ModelProviderFactory,
    "routing.AIModel": AIModelFactory,
    "routing.Assistant": AssistantFactory,
    "routing.RoutingRule": lambda: RoutingRuleFactory(organization=OrganizationFactory()),
    "routing.PromptCheck": _prompt_check,
    "routing.SemanticCacheEntry": SemanticCacheEntryFactory,
    "routing.CachePolicy": lambda: CachePolicyFactory(organization=OrganizationFactory()),
    "routing.ShadowAudit": lambda: ShadowAuditFactory(model_call=_linked_model_call()),
    "routing.ConfidenceCell": ConfidenceCellFactory,
    "routing.ConfidenceChange": lambda: ConfidenceChange.objects.create(
        cell=ConfidenceCellFactory(), escalate=True, evidence={"rule": "low end above the bar"}
    ),
    "routing.AnswerFeedback": lambda: AnswerFeedbackFactory(model_call=_linked_model_call()),
    "usage.ModelCall": _linked_model_call,
    "usage.UsageRecord": lambda: UsageRecordFactory(model_call=_linked_model_call()),
    "usage.CostRecord": lambda: CostRecordFactory(model_call=_linked_model_call()),
    "usage.UsageDaily": UsageDailyFactory,
    "usage.MonthlyReport": MonthlyReportFactory,
    "usage.AbuseFlag": AbuseFlagFactory,
    "chat.Conversation": ConversationFactory,
    "chat.Message": _assistant_reply,
}
REGISTERED = sorted(_label(model) for model in admin.site._registry)
APPEND_ONLY = [
    "accounts.AuditLog",
    "billing.CreditLedger",
    "billing.CreditBalance",
    "billing.BudgetCap",
    "billing.StripeEvent",
    "usage.UsageRecord",
    "usage.CostRecord",
    "usage.ModelCall",
    "routing.PromptCheck",
]


def test_every_registered_model_has_a_row_factory_here() -> None:
    assert set(REGISTERED) == set(ROW_FACTORIES)


def test_site_header_names_the_staff_site(admin_client: Client) -> None:
    assert "Switchboard staff" in admin_client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize("label", REGISTERED)
def test_changelist_search_and_change_page_render(admin_client: Client, label: str) -> None:
    obj = ROW_FACTORIES[label]()

    assert admin_client.get(_url(obj, "changelist")).status_code == 200
    assert admin_client.get(_url(obj, "changelist"), {"q": "test"}).status_code == 200
    assert admin_client.get(_url(obj, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("label", REGISTERED)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client: Client, django_assert_max_num_queries: Any, label: str
) -> None:
    make = ROW_FACTORIES[label]
    url = _url(make(), "changelist")
    admin_client.get(url)  # warm per-process caches (content types, sessions)
    with CaptureQueriesContext(connection) as one_row:
        assert admin_client.get(url).status_code == 200
    for _ in range(5):
        make()

    with django_assert_max_num_queries(len(one_row)):
        assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("role", ["owner", "member"])
@pytest.mark.parametrize("url_name", ["admin:index", "admin:accounts_apikey_changelist"])
def test_org_members_who_are_not_staff_are_sent_to_the_admin_login(
    client: Client, tenant: Tenant, other_tenant: Tenant, role: str, url_name: str
) -> None:
    client.force_login(getattr(tenant, role))

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert other_tenant.key.prefix not in response.content.decode()


def test_non_staff_cannot_open_another_tenants_key(
    client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.force_login(tenant.owner)

    response = client.get(_url(other_tenant.key, "change", other_tenant.key.pk))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_api_key_pages_never_show_the_secret_or_its_hash(
    admin_client: Client, tenant: Tenant
) -> None:
    key = tenant.key
    for url in (_url(key, "changelist"), _url(key, "change", key.pk)):
        body = admin_client.get(url).content.decode()
        assert key.prefix in body
        assert key.secret_sha256 not in body
        assert tenant.secret not in body
        assert "secret_sha256" not in body


def test_api_keys_cannot_be_added_or_deleted_in_admin(
    admin_client: Client, admin_user: User, rf: Any, tenant: Tenant
) -> None:
    request = rf.get("/")
    request.user = admin_user
    key_admin = admin.site.get_model_admin(ApiKey)

    assert not key_admin.has_add_permission(request)
    assert not key_admin.has_delete_permission(request, tenant.key)
    assert admin_client.get(_url(ApiKey, "add")).status_code == 403
    assert (
        admin_client.post(_url(tenant.key, "delete", tenant.key.pk), {"post": "yes"}).status_code
        == 403
    )


def test_revoke_action_revokes_once_and_audits(
    admin_client: Client, admin_user: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    url = _url(ApiKey, "changelist")
    data = {"action": "revoke_keys", "_selected_action": [tenant.key.pk]}

    assert admin_client.post(url, data).status_code == 302
    tenant.key.refresh_from_db()
    first_revocation = tenant.key.revoked_at
    admin_client.post(url, data)

    tenant.key.refresh_from_db()
    other_tenant.key.refresh_from_db()
    assert first_revocation is not None
    assert tenant.key.revoked_at == first_revocation
    assert other_tenant.key.revoked_at is None
    log = AuditLog.objects.get(action="api_key.revoke")
    assert (log.actor, log.organization) == (admin_user, tenant.org)
    assert log.before == {"revoked_at": None}


@pytest.mark.parametrize(
    ("action", "was_active", "audit_action"),
    [("activate", False, "model.activate"), ("deactivate", True, "model.deactivate")],
)
def test_model_actions_flip_active_and_write_one_audit_row(
    admin_client: Client, admin_user: User, action: str, was_active: bool, audit_action: str
) -> None:
    model = AIModelFactory(active=was_active)

    response = admin_client.post(
        _url(AIModel, "changelist"), {"action": action, "_selected_action": [model.pk]}
    )

    assert response.status_code == 302
    model.refresh_from_db()
    assert model.active is not was_active
    log = AuditLog.objects.get(action=audit_action)
    assert log.actor == admin_user
    assert log.organization is None
    assert model.slug in log.target
    assert (log.before, log.after) == ({"active": was_active}, {"active": not was_active})


def test_activating_an_active_model_writes_no_audit_row(admin_client: Client) -> None:
    model = AIModelFactory(active=True)

    admin_client.post(
        _url(AIModel, "changelist"), {"action": "activate", "_selected_action": [model.pk]}
    )

    assert not AuditLog.objects.filter(action="model.activate").exists()


def test_model_change_form_cannot_switch_active_without_the_audited_action(
    admin_user: User, rf: Any
) -> None:
    request = rf.get("/")
    request.user = admin_user
    model = AIModelFactory(active=False)

    form_class = admin.site.get_model_admin(AIModel).get_form(request, model, change=True)

    assert "active" not in form_class.base_fields


def test_approve_action_decides_the_request_and_audits_it(
    admin_client: Client, admin_user: User
) -> None:
    plan_request = PlanRequestFactory()

    response = admin_client.post(
        _url(plan_request, "changelist"),
        {"action": "approve", "_selected_action": [plan_request.pk]},
    )

    assert response.status_code == 302
    plan_request.refresh_from_db()
    assert plan_request.status == PlanRequestStatus.APPROVED
    assert plan_request.decided_by == admin_user
    assert plan_request.decided_at is not None
    log = AuditLog.objects.get(action="plan_request.approve")
    assert (log.actor, log.organization) == (admin_user, plan_request.organization)
    assert (log.before["status"], log.after["status"]) == ("pending", "approved")


def test_a_decided_request_is_not_decided_again(admin_client: Client) -> None:
    plan_request = PlanRequestFactory()
    url = _url(plan_request, "changelist")

    admin_client.post(url, {"action": "reject", "_selected_action": [plan_request.pk]})
    admin_client.post(url, {"action": "approve", "_selected_action": [plan_request.pk]})

    plan_request.refresh_from_db()
    assert plan_request.status == PlanRequestStatus.REJECTED
    assert list(AuditLog.objects.values_list("action", flat=True)) == ["plan_request.reject"]


@pytest.mark.parametrize("label", APPEND_ONLY)
def test_append_only_records_refuse_add_change_and_delete(admin_client: Client, label: str) -> None:
    obj = ROW_FACTORIES[label]()

    assert admin_client.get(_url(obj, "change", obj.pk)).status_code == 200  # view only
    assert admin_client.post(_url(obj, "change", obj.pk), {}).status_code == 403
    assert admin_client.get(_url(obj, "add")).status_code == 403
    assert admin_client.post(_url(obj, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_credit_ledger_change_post_is_refused_and_changes_nothing(admin_client: Client) -> None:
    row = CreditLedgerFactory(note="original")

    response = admin_client.post(
        _url(row, "change", row.pk), {"kind": "grant", "credits": "999", "note": "edited"}
    )

    assert response.status_code == 403
    row.refresh_from_db()
    assert (row.credits, row.note) == (Decimal("100.00"), "original")


def test_provider_pages_show_the_key_variable_name_but_never_its_value(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_key = ModelProviderFactory(key_env="TEST_ADMIN_PROVIDER_KEY", name="Keyed")
    monkeypatch.setenv("TEST_ADMIN_PROVIDER_KEY", "sk-live-do-not-show-0123456789")
    ModelProviderFactory(key_env="TEST_ADMIN_UNSET_KEY", name="Keyless")
    monkeypatch.delenv("TEST_ADMIN_UNSET_KEY", raising=False)

    changelist = admin_client.get(_url(with_key, "changelist"), {"q": "Key"}).content.decode()
    change = admin_client.get(_url(with_key, "change", with_key.pk)).content.decode()

    assert "TEST_ADMIN_PROVIDER_KEY" in changelist
    assert ">yes<" in changelist
    assert ">no<" in changelist
    for body in (changelist, change):
        assert "sk-live-do-not-show" not in body


def test_customer_words_never_appear_in_conversation_pages(admin_client: Client) -> None:
    message = _assistant_reply()
    message.content = "PRIVATE-PROMPT-TEXT about my diagnosis"
    message.save(update_fields=["content"])
    conversation = message.conversation
    conversation.title = "PRIVATE-TITLE my diagnosis"
    conversation.save(update_fields=["title"])
    check = PromptCheckFactory(
        organization=conversation.organization, user=conversation.user, conversation=conversation
    )
    pages = [
        _url(message, "changelist"),
        _url(message, "change", message.pk),
        _url(conversation, "changelist"),
        _url(conversation, "change", conversation.pk),
        _url(message.model_call, "change", message.model_call.pk),
        _url(check, "change", check.pk),
    ]

    for url in pages:
        body = admin_client.get(url).content.decode()
        assert "PRIVATE-PROMPT-TEXT" not in body, url
        assert "PRIVATE-TITLE" not in body, url
