"""Shared fixtures: a tenant with an owner and a member, and an outsider tenant with its own key.

Everything runs against the real PostgreSQL (pgvector) and Valkey that settings start.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiKey, Organization, Role, User
from billing.models import Plan
from billing.periods import subscription_start
from routing.models import CachePolicy
from tests.accounts.factories import ApiKeyFactory, MembershipFactory, OrganizationFactory


@dataclass
class Tenant:
    org: Organization
    owner: User
    member: User
    key: ApiKey
    secret: str


def make_tenant(name: str, plan: str = "pro", *, cache: bool = False) -> Tenant:
    """An organisation on `plan` (with its monthly credits), an owner, a member and a key.

    Its semantic cache is off unless `cache`: most tests send one prompt many times and are
    about the providers, so an answer from the cache would change what they test."""
    org = OrganizationFactory(name=name, slug=name.lower().replace(" ", "-"))
    owner = MembershipFactory(organization=org, role=Role.OWNER).user
    member = MembershipFactory(organization=org, role=Role.MEMBER).user
    secret = f"sb_{name.lower().replace(' ', '_')}_secret_0123456789abcdef"
    key = ApiKeyFactory(organization=org, user=owner, secret=secret)
    subscription_start(org=org, plan=Plan.objects.get(slug=plan), user=owner)
    CachePolicy.objects.create(organization=org, enabled=cache)
    return Tenant(org=org, owner=owner, member=member, key=key, secret=secret)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The catalog (plans, models, assistants) is platform data every test may rely on."""
    with django_db_blocker.unblock():
        call_command("seed_catalog", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _fresh_test_redis() -> None:
    cache.clear()  # the test settings point at a Redis database of their own


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("Acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant("Globex")


@pytest.fixture
def free_tenant(db: None) -> Tenant:
    return make_tenant("Initech", plan="free")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def bearer(tenant: Tenant) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {tenant.secret}"}
