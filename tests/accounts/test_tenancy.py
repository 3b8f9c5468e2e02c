"""Every tenant-owned model is reachable only through `for_org`, and children share a tenant."""

import pytest
from django.apps import apps
from django.http import Http404

from accounts.models import ApiKey, AuditLog
from accounts.tenancy import TenantModel, get_for_org
from tests.accounts import factories as account_factories
from tests.billing import factories as billing_factories
from tests.chat import factories as chat_factories
from tests.routing import factories as routing_factories
from tests.usage import factories as usage_factories

pytestmark = pytest.mark.django_db

FACTORY_MODULES = [
    account_factories,
    billing_factories,
    chat_factories,
    routing_factories,
    usage_factories,
]
TENANT_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, TenantModel) or m is AuditLog),
    key=lambda m: m._meta.label,
)


def factory_for(model: type) -> type:
    for module in FACTORY_MODULES:
        factory = getattr(module, f"{model.__name__}Factory", None)
        if factory is not None:
            return factory
    raise AssertionError(f"no factory for {model.__name__}")


def test_every_tenant_model_is_covered() -> None:
    labels = {m._meta.label for m in TENANT_MODELS}

    assert {
        "usage.ModelCall",
        "billing.CreditLedger",
        "chat.Message",
        "accounts.ApiKey",
    } <= labels


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_for_org_returns_only_that_organisations_rows(model: type) -> None:
    mine, theirs = factory_for(model)(), factory_for(model)()
    assert mine.organization_id != theirs.organization_id

    rows = list(model.objects.for_org(mine.organization))

    assert rows == [mine]
    with pytest.raises(Http404):
        get_for_org(model.objects.all(), org=mine.organization, pk=theirs.pk)
    assert get_for_org(model.objects.all(), org=mine.organization, pk=mine.pk) == mine


@pytest.mark.parametrize(
    ("factory", "parent"),
    [
        (chat_factories.MessageFactory, "conversation"),
        (usage_factories.UsageRecordFactory, "model_call"),
        (usage_factories.CostRecordFactory, "model_call"),
        (routing_factories.ShadowAuditFactory, "model_call"),
        (routing_factories.AnswerFeedbackFactory, "model_call"),
    ],
)
def test_child_rows_inherit_their_parents_tenant(factory: type, parent: str) -> None:
    child = factory()

    assert child.organization_id == getattr(child, parent).organization_id


@pytest.mark.parametrize("bad_pk", ["abc", None, -1])
def test_get_for_org_turns_bad_ids_into_404(bad_pk: object) -> None:
    org = account_factories.OrganizationFactory()

    with pytest.raises(Http404):
        get_for_org(ApiKey.objects.all(), org=org, pk=bad_pk)
