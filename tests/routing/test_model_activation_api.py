"""POST /api/admin/models/{id}/activate|deactivate: staff switch models, audited."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from tests.accounts.factories import UserFactory
from tests.conftest import Tenant, bearer
from tests.routing.factories import AIModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: None):
    return UserFactory(is_staff=True)


def test_staff_activates_a_model_and_it_is_audited(api_client, staff) -> None:
    model = AIModelFactory(active=False)
    api_client.force_login(staff)

    response = api_client.post(f"/api/admin/models/{model.pk}/activate")

    model.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == {"id": model.pk, "slug": model.slug, "active": True}
    assert model.active is True
    audit = AuditLog.objects.get(action="model.activate")
    assert (audit.actor, audit.organization, audit.before, audit.after) == (
        staff,
        None,
        {"active": False},
        {"active": True},
    )
    assert model.slug in audit.target


def test_staff_deactivates_a_model_and_it_is_audited(api_client, staff) -> None:
    model = AIModelFactory(active=True)
    api_client.force_login(staff)

    response = api_client.post(f"/api/admin/models/{model.pk}/deactivate")

    model.refresh_from_db()
    assert response.json()["active"] is False
    assert model.active is False
    assert AuditLog.objects.filter(action="model.deactivate", actor=staff).count() == 1


def test_repeating_an_activation_writes_no_second_audit_row(api_client, staff) -> None:
    model = AIModelFactory(active=False)
    api_client.force_login(staff)

    first = api_client.post(f"/api/admin/models/{model.pk}/activate")
    second = api_client.post(f"/api/admin/models/{model.pk}/activate")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["active"] is True
    assert AuditLog.objects.filter(action="model.activate").count() == 1


@pytest.mark.parametrize("action", ["activate", "deactivate"])
def test_unknown_model_gets_404(api_client, staff, action: str) -> None:
    api_client.force_login(staff)

    response = api_client.post(f"/api/admin/models/999999999/{action}")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("action", ["activate", "deactivate"])
def test_tenant_owner_is_refused_and_nothing_changes(
    api_client, tenant: Tenant, action: str
) -> None:
    model = AIModelFactory(active=action == "deactivate")

    by_key = api_client.post(f"/api/admin/models/{model.pk}/{action}", **bearer(tenant))
    api_client.force_login(tenant.owner)
    by_session = api_client.post(f"/api/admin/models/{model.pk}/{action}")

    for response in (by_key, by_session):
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "permission_error"
    model.refresh_from_db()
    assert model.active is (action == "deactivate")
    assert not AuditLog.objects.filter(action__startswith="model.").exists()


def test_get_is_not_allowed(api_client, staff) -> None:
    model = AIModelFactory(active=False)
    api_client.force_login(staff)

    response = api_client.get(f"/api/admin/models/{model.pk}/activate")

    assert response.status_code == 405
    model.refresh_from_db()
    assert model.active is False


def test_anonymous_caller_is_refused(api_client, db: None) -> None:
    model = AIModelFactory(active=False)

    response = api_client.post(f"/api/admin/models/{model.pk}/activate")

    assert response.status_code == 401
    model.refresh_from_db()
    assert model.active is False
