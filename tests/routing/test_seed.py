"""The catalog and demo seeds: complete, idempotent, and respectful of staff edits.

tests/conftest.py seeds the catalog once per session, so every test starts with it in place.
"""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import Membership, Organization, Role, User
from billing.models import (
    CreditLedger,
    LedgerKind,
    Plan,
    PlanRequest,
    Subscription,
    UserEntitlement,
)
from routing.models import TASK_TYPES, AIModel, Assistant, ModelProvider, ProviderKind

pytestmark = pytest.mark.django_db

CATALOG_MODELS = (ModelProvider, AIModel, Assistant, Plan)


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in CATALOG_MODELS}


def test_seed_catalog_twice_changes_nothing() -> None:
    run("seed_catalog")
    before = snapshot()

    output = run("seed_catalog")

    assert snapshot() == before
    assert "0 created, 0 updated" in output


def test_seed_catalog_recreates_a_deleted_model() -> None:
    AIModel.objects.filter(slug="sim/frontier").delete()

    output = run("seed_catalog")

    assert "models 1 created, 0 updated" in output
    assert AIModel.objects.filter(slug="sim/frontier", active=True).exists()


def test_catalog_has_the_three_provider_kinds() -> None:
    providers = {p.slug: p for p in ModelProvider.objects.all()}

    assert {p.kind for p in providers.values()} >= set(ProviderKind.values)
    assert providers["openrouter"].api_base == "https://openrouter.ai/api/v1"
    assert providers["openrouter"].key_env == "OPENROUTER_API_KEY"
    assert providers["anthropic"].key_env == "ANTHROPIC_API_KEY"
    assert providers["simulator"].api_base == settings.SIMULATOR_URL
    assert providers["simulator"].key_env == ""


def test_catalog_has_at_least_eight_priced_real_models() -> None:
    real = AIModel.objects.exclude(provider__kind=ProviderKind.SIMULATOR)

    assert real.count() >= 8
    for model in real:
        assert isinstance(model.input_cost_per_mtok, Decimal)
        assert model.input_cost_per_mtok >= 0
        assert model.output_cost_per_mtok >= model.input_cost_per_mtok > 0
        assert model.pricing_source.strip()
        assert model.context_window > 0
        assert model.active


def test_every_model_has_a_quality_prior_for_every_task_type() -> None:
    for model in AIModel.objects.all():
        assert set(model.quality) == set(TASK_TYPES), model.slug
        assert all(0 <= score <= 1 for score in model.quality.values()), model.slug


def test_simulator_models_mirror_real_prices() -> None:
    real_prices = {
        (m.input_cost_per_mtok, m.output_cost_per_mtok)
        for m in AIModel.objects.exclude(provider__kind=ProviderKind.SIMULATOR)
    }
    sims = AIModel.objects.filter(provider__kind=ProviderKind.SIMULATOR)

    assert sims.count() >= 2
    for sim in sims:
        assert (sim.input_cost_per_mtok, sim.output_cost_per_mtok) in real_prices


def test_five_assistants_split_the_ten_task_types() -> None:
    assistants = list(Assistant.objects.all())
    task_types = [t for a in assistants for t in a.default_task_types]

    assert {a.family for a in assistants} == {"coder", "writer", "analyst", "tutor", "generalist"}
    assert sorted(task_types) == sorted(TASK_TYPES)
    generalist = next(a for a in assistants if a.family == "generalist")
    assert set(generalist.default_task_types) == {"chat", "question_answering"}
    assert all(a.system_prompt and a.description for a in assistants)


def test_three_plans_with_growing_limits() -> None:
    free, pro, team = Plan.objects.order_by("sort_order")

    assert [free.slug, pro.slug, team.slug] == ["free", "pro", "team"]
    assert free.display_multiplier > pro.display_multiplier > team.display_multiplier
    assert free.monthly_credits < pro.monthly_credits < team.monthly_credits
    assert (free.max_context, pro.max_context, team.max_context) == (16_000, 128_000, 1_000_000)
    assert (free.rpm, pro.rpm, team.rpm) == (10, 60, 300)
    assert (free.max_concurrency, pro.max_concurrency, team.max_concurrency) == (1, 4, 16)
    assert not free.images_allowed
    assert free.allowed_modes == ["auto"]
    assert "custom" not in pro.allowed_modes
    assert set(team.allowed_modes) == {"auto", "cost", "speed", "quality", "custom"}
    assert set(free.allowed_families) == {"generalist", "writer", "tutor"}
    assert pro.allowed_models == team.allowed_models == []


def test_free_plan_models_exist_and_are_cheap() -> None:
    free = Plan.objects.get(slug="free")
    models = AIModel.objects.filter(slug__in=free.allowed_models)

    assert models.count() == len(free.allowed_models)
    assert {"sim/economy", "sim/standard"} <= set(free.allowed_models)
    assert all(m.input_cost_per_mtok <= Decimal("0.50") for m in models)


def test_reseeding_keeps_a_model_staff_deactivated() -> None:
    AIModel.objects.filter(slug="openai/gpt-4o").update(active=False)

    run("seed_catalog")

    assert AIModel.objects.get(slug="openai/gpt-4o").active is False


def test_reseeding_restores_a_changed_price() -> None:
    AIModel.objects.filter(slug="openai/gpt-4o").update(input_cost_per_mtok=Decimal("99"))

    output = run("seed_catalog")

    assert AIModel.objects.get(slug="openai/gpt-4o").input_cost_per_mtok == Decimal("2.50")
    assert "models 0 created, 1 updated" in output


def test_seed_demo_twice_creates_everything_once() -> None:
    first = run("seed_demo")
    second = run("seed_demo")

    org = Organization.objects.get(slug=settings.DEMO_ORG_SLUG)
    assert org.name == "Demo Org"
    assert Organization.objects.filter(name="Demo Org").count() == 1
    assert User.objects.filter(email=settings.DEMO_USER_EMAIL).count() == 1
    assert Membership.objects.get(organization=org).role == Role.OWNER
    live = Subscription.objects.for_org(org).filter(status="active")
    assert [s.plan.slug for s in live] == ["pro"]
    assert CreditLedger.objects.for_org(org).filter(kind=LedgerKind.GRANT).count() == 1
    for output in (first, second):
        assert settings.DEMO_USER_EMAIL in output
        assert "admin@switchboard.local" in output
        assert f"{settings.SITE_URL}/accounts/login/" in output
    assert "no new credits" in second


def test_seed_demo_creates_verified_addresses_and_a_staff_superuser() -> None:
    run("seed_demo")

    admin = User.objects.get(email="admin@switchboard.local")
    assert admin.is_staff and admin.is_superuser
    for email in (settings.DEMO_USER_EMAIL, "admin@switchboard.local"):
        assert EmailAddress.objects.filter(email=email, verified=True, primary=True).exists()


def test_seed_demo_uses_the_demo_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "another-long-demo-secret")

    output = run("seed_demo")

    assert "another-long-demo-secret" in output
    assert User.objects.get(email=settings.DEMO_USER_EMAIL).check_password(
        "another-long-demo-secret"
    )


# WhiteNoise warns when `collectstatic` has not run (STATIC_ROOT missing), as in a fresh checkout.
def test_demo_user_can_log_in_and_sees_the_org_and_plan(client: Client) -> None:
    run("seed_demo")

    response = client.post(
        "/accounts/login/",
        {"login": settings.DEMO_USER_EMAIL, "password": "switchboard-demo"},
    )
    assert response.status_code == 302

    page = client.get("/app/").content.decode()
    assert "Demo Org" in page
    assert 'data-testid="plan-name">Pro<' in page


def test_seed_demo_without_plans_asks_for_seed_catalog() -> None:
    # Plans are PROTECTed by the rows that point at them; clear those first.
    for model in (Subscription, UserEntitlement, PlanRequest):
        model.objects.all().delete()
    Plan.objects.all().delete()

    with pytest.raises(CommandError, match="seed_catalog"):
        run("seed_demo")
    assert not Organization.objects.filter(slug=settings.DEMO_ORG_SLUG).exists()
