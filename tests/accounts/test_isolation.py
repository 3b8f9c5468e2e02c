"""One organisation can read or change nothing of another: through pages, API and admin."""

import pytest
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from accounts.models import ApiKey, Role
from tests.accounts.factories import MembershipFactory
from tests.conftest import Tenant, bearer

pytestmark = pytest.mark.django_db


def test_api_lists_only_own_keys(api_client, tenant: Tenant, other_tenant: Tenant) -> None:
    listed = api_client.get("/api/keys", **bearer(tenant)).json()

    assert [k["id"] for k in listed] == [tenant.key.pk]


def test_api_cannot_revoke_other_tenants_key(
    api_client, tenant: Tenant, other_tenant: Tenant
) -> None:
    response = api_client.post(f"/api/keys/{other_tenant.key.pk}/revoke", **bearer(tenant))

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    other_tenant.key.refresh_from_db()
    assert other_tenant.key.revoked_at is None


def test_api_me_reports_the_keys_organisation(
    api_client, tenant: Tenant, other_tenant: Tenant
) -> None:
    assert api_client.get("/api/me", **bearer(other_tenant)).json()["organization"] == "Globex"
    assert api_client.get("/api/me", **bearer(tenant)).json()["organization"] == "Acme"


def test_page_cannot_revoke_other_tenants_key(client, tenant: Tenant, other_tenant: Tenant) -> None:
    client.force_login(tenant.owner)

    response = client.post(reverse("accounts:api-key-revoke", args=[other_tenant.key.pk]))

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=other_tenant.key.pk).revoked_at is None


def test_key_page_shows_only_own_keys(client, tenant: Tenant, other_tenant: Tenant) -> None:
    client.force_login(tenant.owner)

    body = client.get(reverse("accounts:api-key-list")).content.decode()

    assert tenant.key.prefix in body
    assert other_tenant.key.prefix not in body
    assert other_tenant.owner.email not in body


def test_cannot_switch_into_an_organisation_without_membership(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.force_login(tenant.owner)

    client.post(reverse("accounts:organization-switch"), {"org": other_tenant.org.pk})
    page = client.get(reverse("dashboard")).content.decode()

    assert client.session.get(SESSION_KEY) is None
    assert "Acme" in page
    assert "Globex" not in page


def test_member_of_two_organisations_switches_between_them(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    MembershipFactory(organization=other_tenant.org, user=tenant.owner, role=Role.ADMIN)
    client.force_login(tenant.owner)

    client.post(reverse("accounts:organization-switch"), {"org": other_tenant.org.pk})
    keys_page = client.get(reverse("accounts:api-key-list")).content.decode()

    assert client.session[SESSION_KEY] == other_tenant.org.pk
    assert other_tenant.key.prefix in keys_page
    assert tenant.key.prefix not in keys_page


def test_org_member_without_staff_flag_cannot_open_admin(client, tenant: Tenant) -> None:
    client.force_login(tenant.owner)

    response = client.get("/admin/accounts/apikey/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_for_org_refuses_a_missing_organisation() -> None:
    with pytest.raises(ValueError, match="saved organization"):
        ApiKey.objects.for_org(None)
