"""An organisation's owners and admins turn its answer cache off and on from /app/org/cache/:
audited, refused (403) to a plain member, and never touching another organisation."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import AuditLog, Role
from routing.cache.entries import cache_enabled_for
from routing.models import AIModel, SemanticCacheEntry
from tests.accounts.factories import MembershipFactory
from tests.conftest import Tenant, make_tenant
from tests.routing.test_cache import key, store

pytestmark = pytest.mark.django_db
PAGE = "/app/org/cache/"


@pytest.fixture(autouse=True)
def _fresh_valkey() -> None:
    cache.clear()


def economy() -> AIModel:
    return AIModel.objects.get(slug="sim/economy")


def test_the_page_is_under_app_and_shows_the_organisations_choice(client: Client) -> None:
    tenant = make_tenant("Pagecorp", cache=True)
    client.force_login(tenant.owner)

    response = client.get(PAGE)

    assert reverse("routing:org-cache") == PAGE
    assert response.status_code == 200
    body = response.content.decode()
    assert "The answer cache is <strong>on</strong> for Pagecorp" in body
    assert "Turn the answer cache off" in body


def test_an_owner_turns_it_off_over_htmx_audited_and_its_entries_go(client: Client) -> None:
    tenant = make_tenant("Offcorp", cache=True)
    store(key(tenant.org.pk, "Explain recursion"), economy())
    client.force_login(tenant.owner)

    response = client.post(PAGE, {"enabled": "off"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="cache-panel"') and "<html" not in body
    assert "<strong>off</strong>" in body and "Saved." in body
    assert cache_enabled_for(org=tenant.org) is False
    assert not SemanticCacheEntry.objects.for_org(tenant.org).exists()
    [entry] = AuditLog.objects.filter(organization=tenant.org, action="cache_policy.disable")
    assert (entry.actor, entry.before, entry.after) == (
        tenant.owner,
        {"enabled": True},
        {"enabled": False},
    )


def test_an_admin_turns_it_back_on_and_a_repeat_is_not_audited_again(client: Client) -> None:
    tenant = make_tenant("Oncorp", cache=False)
    admin = MembershipFactory(organization=tenant.org, role=Role.ADMIN).user
    client.force_login(admin)

    client.post(PAGE, {"enabled": "on"})
    client.post(PAGE, {"enabled": "on"})

    assert cache_enabled_for(org=tenant.org) is True
    audited = AuditLog.objects.filter(organization=tenant.org, action__startswith="cache_policy")
    assert list(audited.values_list("action", "actor")) == [("cache_policy.enable", admin.pk)]


def test_a_member_without_the_role_gets_403_and_nothing_changes(client: Client) -> None:
    tenant = make_tenant("Membercorp", cache=True)
    store(key(tenant.org.pk, "Explain recursion"), economy())
    client.force_login(tenant.member)

    page = client.get(PAGE)
    refused = client.post(PAGE, {"enabled": "off"}, HTTP_HX_REQUEST="true")

    assert "Only owners and admins can change this." in page.content.decode()
    assert refused.status_code == 403
    assert cache_enabled_for(org=tenant.org) is True
    assert SemanticCacheEntry.objects.for_org(tenant.org).count() == 1
    assert not AuditLog.objects.filter(action__startswith="cache_policy").exists()


def test_organisation_a_s_toggle_never_touches_organisation_b(client: Client) -> None:
    a, b = make_tenant("Alphacorp", cache=True), make_tenant("Betacorp", cache=True)
    store(key(a.org.pk, "Explain recursion"), economy())
    store(key(b.org.pk, "Explain recursion"), economy())
    client.force_login(a.owner)

    client.post(PAGE, {"enabled": "off"})

    assert (cache_enabled_for(org=a.org), cache_enabled_for(org=b.org)) == (False, True)
    assert SemanticCacheEntry.objects.for_org(b.org).count() == 1
    assert not AuditLog.objects.filter(organization=b.org).exists()
    client.force_login(b.owner)  # B's own page still says on
    assert "<strong>on</strong> for Betacorp" in client.get(PAGE).content.decode()


def test_an_owner_elsewhere_changes_only_their_own_organisation(
    client: Client, tenant: Tenant
) -> None:
    other = make_tenant("Gammacorp", cache=False)
    client.force_login(other.owner)  # owner of Gammacorp, not a member of Acme (cache off)

    client.post(PAGE, {"enabled": "on"})

    assert cache_enabled_for(org=other.org) is True
    assert cache_enabled_for(org=tenant.org) is False
    assert not AuditLog.objects.filter(organization=tenant.org).exists()
