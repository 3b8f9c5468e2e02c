from __future__ import annotations

import factory
from factory.django import DjangoModelFactory, Password

from accounts.models import ApiKey, AuditLog, Membership, Organization, Role, User
from accounts.selectors import secret_sha256

PASSWORD = "correct horse battery"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = Password(PASSWORD)


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class ApiKeyFactory(DjangoModelFactory[ApiKey]):
    """Pass `secret=` to know the bearer value; only its hash is stored, as in production."""

    class Meta:
        model = ApiKey

    class Params:
        secret = factory.Sequence(lambda n: f"sb_test_{n:032d}")

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(
        UserFactory, email=factory.LazyAttributeSequence(lambda o, n: f"keyuser{n}@example.test")
    )
    name = factory.Sequence(lambda n: f"key {n}")
    prefix = factory.LazyAttribute(lambda o: o.secret[:10])
    secret_sha256 = factory.LazyAttribute(lambda o: secret_sha256(o.secret))


class AuditLogFactory(DjangoModelFactory[AuditLog]):
    class Meta:
        model = AuditLog

    organization = factory.SubFactory(OrganizationFactory)
    actor = factory.SubFactory(UserFactory)
    action = "test.action"
    target = "something"
