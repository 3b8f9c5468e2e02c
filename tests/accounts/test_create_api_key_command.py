"""`manage.py create_api_key`: prints a new key's secret once, for an owner or admin."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, AuditLog
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_only_the_secret_and_it_authenticates(api_client, tenant: Tenant) -> None:
    out, err = run("--org", tenant.org.slug, "--user", tenant.owner.email, "--name", "deploy")

    secret = out.strip()
    assert out == f"{secret}\n"
    assert secret.startswith("sb_")
    assert len(err.strip().splitlines()) == 1
    assert secret not in err
    me = api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert me.status_code == 200
    assert (me.json()["organization_slug"], me.json()["email"]) == (
        tenant.org.slug,
        tenant.owner.email,
    )
    key = ApiKey.objects.for_org(tenant.org).get(name="deploy")
    assert key.user == tenant.owner
    assert secret not in [str(value) for value in key.__dict__.values()]
    assert AuditLog.objects.filter(action="api_key.create", organization=tenant.org).count() == 1


def test_defaults_to_the_demo_organisation_and_user(settings, tenant: Tenant) -> None:
    settings.DEMO_ORG_SLUG = tenant.org.slug
    settings.DEMO_USER_EMAIL = tenant.owner.email.upper()

    out, _ = run()

    key = ApiKey.objects.for_org(tenant.org).get(name="cli")
    assert (key.user, key.prefix) == (tenant.owner, out.strip()[:10])


def test_member_who_is_not_owner_or_admin_is_refused(tenant: Tenant) -> None:
    with pytest.raises(CommandError, match="not an owner or admin"):
        run("--org", tenant.org.slug, "--user", tenant.member.email)

    assert ApiKey.objects.for_org(tenant.org).count() == 1  # only the fixture's key


def test_owner_of_another_organisation_is_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    with pytest.raises(CommandError, match="not an owner or admin"):
        run("--org", tenant.org.slug, "--user", other_tenant.owner.email)

    assert ApiKey.objects.for_org(tenant.org).count() == 1


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--org", "no-such-org"], "--org"),
        (["--user", "nobody@example.test"], "--user"),
    ],
)
def test_unknown_organisation_or_user_names_the_option(
    tenant: Tenant, args: list[str], option: str
) -> None:
    defaults = {"--org": tenant.org.slug, "--user": tenant.owner.email}
    defaults.update(dict(zip(args[::2], args[1::2], strict=True)))

    with pytest.raises(CommandError, match=option):
        run(*[part for pair in defaults.items() for part in pair])

    assert ApiKey.objects.count() == 1


def test_blank_name_is_refused(tenant: Tenant) -> None:
    with pytest.raises(CommandError, match="--name"):
        run("--org", tenant.org.slug, "--user", tenant.owner.email, "--name", "  ")
