"""Shared fixtures: a tenant with an owner and a member, and an outsider tenant with its own key.

Everything runs against the real PostgreSQL (pgvector) and Valkey that settings start.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiKey, Membership, Organization, Role, User
from tests.accounts.factories import ApiKeyFactory, MembershipFactory, OrganizationFactory


@dataclass
class Tenant:
    org: Organization
    owner: User
    member: User
    key: ApiKey
    secret: str


def make_tenant(name: str) -> Tenant:
    org = OrganizationFactory(name=name, slug=name.lower().replace(" ", "-"))
    owner = MembershipFactory(organization=org, role=Role.OWNER).user
    member = MembershipFactory(organization=org, role=Role.MEMBER).user
    secret = f"sb_{name.lower().replace(' ', '_')}_secret_0123456789abcdef"
    key = ApiKeyFactory(organization=org, user=owner, secret=secret)
    return Tenant(org=org, owner=owner, member=member, key=key, secret=secret)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """The catalog (plans, models, assistants) is platform data every test may rely on."""
    with django_db_blocker.unblock():
        call_command("seed_catalog", verbosity=0)


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("Acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant("Globex")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def bearer(tenant: Tenant) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {tenant.secret}"}


def membership_of(user: User) -> Membership:
    return Membership.objects.get(user=user)
