from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.errors import NoActivePlan
from billing.models import (
    CreditLedger,
    LedgerKind,
    Plan,
    Subscription,
    SubscriptionStatus,
    UserEntitlement,
)
from billing.selectors import entitlement_get
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_entitlement_follows_the_org_plan_and_ledger(free_tenant: Tenant) -> None:
    free = Plan.objects.get(slug="free")
    CreditLedger.objects.create(
        organization=free_tenant.org, kind=LedgerKind.USAGE, credits=Decimal("-12.5")
    )

    entitlement = entitlement_get(org=free_tenant.org, user=free_tenant.member)

    assert entitlement.plan_name == "Free"
    assert entitlement.families == frozenset(free.allowed_families)
    assert entitlement.credits_left == free.monthly_credits - Decimal("12.5")
    assert not entitlement.images_allowed


def test_user_override_widens_families_and_models(free_tenant: Tenant) -> None:
    UserEntitlement.objects.create(
        organization=free_tenant.org,
        user=free_tenant.member,
        extra_families=["coder"],
        extra_models=["openai/gpt-4o"],
    )

    mine = entitlement_get(org=free_tenant.org, user=free_tenant.member)
    owners = entitlement_get(org=free_tenant.org, user=free_tenant.owner)

    assert "coder" in mine.families and "coder" not in owners.families
    assert mine.allows_model("openai/gpt-4o") and not owners.allows_model("openai/gpt-4o")


def test_expired_override_is_ignored(free_tenant: Tenant) -> None:
    UserEntitlement.objects.create(
        organization=free_tenant.org,
        user=free_tenant.member,
        plan=Plan.objects.get(slug="team"),
        expires_at=timezone.now() - timedelta(minutes=1),
    )

    assert entitlement_get(org=free_tenant.org, user=free_tenant.member).plan_name == "Free"


def test_override_in_another_org_does_not_apply(free_tenant: Tenant, tenant: Tenant) -> None:
    UserEntitlement.objects.create(
        organization=tenant.org, user=free_tenant.member, plan=Plan.objects.get(slug="team")
    )

    assert entitlement_get(org=free_tenant.org, user=free_tenant.member).plan_name == "Free"


def test_no_live_subscription_raises() -> None:
    org, user = OrganizationFactory(), UserFactory()

    with pytest.raises(NoActivePlan):
        entitlement_get(org=org, user=user)


def test_canceled_subscription_is_not_live(tenant: Tenant) -> None:
    Subscription.objects.for_org(tenant.org).update(status=SubscriptionStatus.CANCELED)

    with pytest.raises(NoActivePlan):
        entitlement_get(org=tenant.org, user=tenant.owner)


def test_org_rate_limit_defaults_to_ten_times_the_user_limit(tenant: Tenant) -> None:
    Plan.objects.filter(slug="pro").update(org_rpm=0)
    assert entitlement_get(org=tenant.org, user=tenant.owner).org_rpm == 10 * 60
    Plan.objects.filter(slug="pro").update(org_rpm=250)
    assert entitlement_get(org=tenant.org, user=tenant.owner).org_rpm == 250
