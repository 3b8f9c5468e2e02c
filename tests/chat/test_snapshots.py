"""Snapshots spare the chat path its per-request reads, and go stale only for their TTL."""

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from accounts.models import ApiKey
from billing.models import Plan
from chat.snapshots import (
    api_key_snapshot,
    catalog_snapshot,
    snapshots_clear,
    tenant_snapshot,
)
from tests.accounts.factories import ApiKeyFactory, UserFactory
from tests.billing.factories import PlanFactory, SubscriptionFactory, UserEntitlementFactory
from tests.routing.factories import AIModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _snapshots_on(settings: Any) -> Any:
    settings.SNAPSHOT_TTL_SECONDS = 60
    snapshots_clear()
    yield
    snapshots_clear()


def snapshot_of(subscription: Any, user: Any) -> Any:
    return async_to_sync(tenant_snapshot)(org=subscription.organization, user=user)


def test_a_fresh_snapshot_is_reused_until_it_expires(settings: Any) -> None:
    subscription, user = SubscriptionFactory(), UserFactory()
    first = snapshot_of(subscription, user)
    Plan.objects.filter(pk=subscription.plan_id).update(rpm=first.entitlement.rpm + 7)

    assert snapshot_of(subscription, user) is first

    settings.SNAPSHOT_TTL_SECONDS = 0
    assert snapshot_of(subscription, user).entitlement.rpm == first.entitlement.rpm + 7


def test_snapshots_are_per_organisation_and_user() -> None:
    mine, theirs = SubscriptionFactory(), SubscriptionFactory()
    Plan.objects.filter(pk=theirs.plan_id).update(display_multiplier=Decimal("3"))
    user, upgraded = UserFactory(), UserFactory()
    UserEntitlementFactory(
        organization=mine.organization,
        user=upgraded,
        plan=PlanFactory(display_multiplier=Decimal("2")),
    )

    assert snapshot_of(mine, user).entitlement.display_multiplier == mine.plan.display_multiplier
    assert snapshot_of(theirs, user).entitlement.display_multiplier == Decimal("3")
    assert snapshot_of(mine, upgraded).entitlement.display_multiplier == Decimal("2")


def test_the_catalog_snapshot_sees_a_new_model_after_the_ttl(settings: Any) -> None:
    before = {m.slug for m in catalog_snapshot().models}
    added = AIModelFactory(active=True)

    assert {m.slug for m in catalog_snapshot().models} == before
    settings.SNAPSHOT_TTL_SECONDS = 0
    assert added.slug in {m.slug for m in catalog_snapshot().models}


def test_a_live_key_is_reused_and_an_unknown_one_is_never_cached() -> None:
    secret = "sb_test_snapshot_0000000000000000000000"
    key = ApiKeyFactory(secret=secret)
    first = async_to_sync(api_key_snapshot)(secret=secret)
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())

    assert first is not None and first.pk == key.pk
    assert async_to_sync(api_key_snapshot)(secret=secret) is first
    snapshots_clear()
    assert async_to_sync(api_key_snapshot)(secret=secret) is None
    assert async_to_sync(api_key_snapshot)(secret="sb_unknown") is None
