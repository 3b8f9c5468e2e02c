import pytest
from django.urls import reverse

from accounts.models import ApiKey, AuditLog
from tests.accounts.factories import ApiKeyFactory
from tests.conftest import Tenant, bearer

pytestmark = pytest.mark.django_db


def test_owner_creates_key_and_secret_is_shown_once_and_only_hash_stored(
    api_client, tenant: Tenant
) -> None:
    api_client.force_login(tenant.owner)

    created = api_client.post("/api/keys", {"name": "backend"}, format="json")

    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("sb_")
    key = ApiKey.objects.for_org(tenant.org).get(pk=created.json()["id"])
    stored = [str(value) for value in key.__dict__.values()]
    assert secret not in stored
    listed = api_client.get("/api/keys").json()
    assert secret not in str(listed)
    assert AuditLog.objects.filter(action="api_key.create", organization=tenant.org).count() == 1


def test_new_key_authenticates_as_its_organisation(api_client, tenant: Tenant) -> None:
    api_client.force_login(tenant.owner)
    secret = api_client.post("/api/keys", {"name": "ci"}, format="json").json()["secret"]
    api_client.logout()

    me = api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert me.status_code == 200
    assert me.json()["organization_slug"] == tenant.org.slug
    assert me.json()["email"] == tenant.owner.email


def test_revoked_key_gets_401_with_json_error(api_client, tenant: Tenant) -> None:
    api_client.force_login(tenant.owner)
    revoke = api_client.post(f"/api/keys/{tenant.key.pk}/revoke")
    api_client.logout()

    response = api_client.get("/api/me", **bearer(tenant))

    assert revoke.status_code == 200
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert "revoked" in response.json()["error"]["message"]
    assert tenant.secret not in response.content.decode()


@pytest.mark.parametrize("header", ["Bearer sb_not_a_real_key", "Bearer ", "Bearer x y"])
def test_unknown_key_gets_401_with_json_error(api_client, header: str) -> None:
    response = api_client.get("/api/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "authentication_error"


def test_request_without_credentials_gets_401(api_client) -> None:
    response = api_client.get("/api/me")

    assert response.status_code == 401
    assert "error" in response.json()


def test_member_cannot_create_or_revoke_keys(api_client, tenant: Tenant) -> None:
    api_client.force_login(tenant.member)

    created = api_client.post("/api/keys", {"name": "sneaky"}, format="json")
    revoked = api_client.post(f"/api/keys/{tenant.key.pk}/revoke")

    assert (created.status_code, revoked.status_code) == (403, 403)
    assert ApiKey.objects.for_org(tenant.org).count() == 1
    tenant.key.refresh_from_db()
    assert tenant.key.revoked_at is None


def test_key_without_name_is_rejected_naming_the_field(api_client, tenant: Tenant) -> None:
    api_client.force_login(tenant.owner)

    response = api_client.post("/api/keys", {"name": ""}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "name"
    assert ApiKey.objects.for_org(tenant.org).count() == 1


def test_revoking_twice_keeps_first_revocation(api_client, tenant: Tenant) -> None:
    api_client.force_login(tenant.owner)
    first = api_client.post(f"/api/keys/{tenant.key.pk}/revoke").json()["revoked_at"]

    second = api_client.post(f"/api/keys/{tenant.key.pk}/revoke").json()["revoked_at"]

    assert first == second
    assert AuditLog.objects.filter(action="api_key.revoke").count() == 1


def test_key_page_create_over_htmx_returns_only_the_panel_with_secret(
    client, tenant: Tenant
) -> None:
    client.force_login(tenant.owner)

    response = client.post(
        reverse("accounts:api-key-create"), {"name": "web"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="key-panel"')
    assert "<html" not in body
    assert "It will not be shown again" in body
    assert ApiKey.objects.for_org(tenant.org).filter(name="web").exists()


def test_key_page_without_name_shows_error_and_creates_nothing(client, tenant: Tenant) -> None:
    client.force_login(tenant.owner)

    response = client.post(reverse("accounts:api-key-create"), {"name": "  "})

    assert response.status_code == 400
    assert "Give the key a name" in response.content.decode()
    assert ApiKey.objects.for_org(tenant.org).count() == 1


def test_key_page_lists_prefix_never_hash(client, tenant: Tenant) -> None:
    ApiKeyFactory(organization=tenant.org, user=tenant.owner, name="second")
    client.force_login(tenant.member)

    body = client.get(reverse("accounts:api-key-list")).content.decode()

    assert tenant.key.prefix in body
    assert tenant.key.secret_sha256 not in body
    assert "Only owners and admins" in body
