"""The live stack: the gateway under daphne and the provider simulator, over real HTTP.

Live tests use `transactional_db` so the daphne process sees their rows; the flush after
each one wipes the catalog too, so `live` seeds it again (pointing at the simulator).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from routing.models import AIModel, ModelProvider, ProviderKind
from tests.conftest import Tenant, make_tenant
from tests.servers import database_url, gateway, simulator
from usage.models import CallStatus, ModelCall

LIVE_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "gateway.settings.test",
    "PROVIDER_FIRST_BYTE_TIMEOUT": "1",
    "PROVIDER_CHUNK_TIMEOUT": "1",
    "CHAT_DEADLINE_SECONDS": "20",
    "CHAT_WHOLE_ANSWER_DEADLINE_SECONDS": "3",
    "BREAKER_FAILURE_THRESHOLD": "5",
    "BREAKER_COOLDOWN_SECONDS": "3",
    # Routing must only see the simulator, whatever keys the machine has.
    "OPENROUTER_API_KEY": "",
    "ANTHROPIC_API_KEY": "",
}
BACKUP_MODEL = "backup/standard"


@pytest.fixture(scope="session")
def simulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with simulator(tmp_path_factory.mktemp("sim") / "simulator.log", "--fast") as url:
        yield url


@pytest.fixture(scope="session")
def gateway_url(
    django_db_setup: None, simulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {**LIVE_SETTINGS, "DATABASE_URL": database_url(connection.settings_dict)}
    with gateway(tmp_path_factory.mktemp("gateway") / "web.log", env) as url:
        yield url


@dataclass
class Live:
    url: str
    sim: httpx.Client
    tenant: Tenant

    def configure(self, models: dict[str, Any], **top: Any) -> None:
        """Replace the simulator's behaviour, e.g. {"sim/economy": {"error_rate": 1}}."""
        config = {"seed": 7, "default": {}, "models": models, **top}
        response = self.sim.put("/_sim/config", json=config)
        assert response.status_code == 200, response.text

    def stats(self, model: str) -> dict[str, Any]:
        return self.sim.get("/_sim/stats").json()["models"].get(model, {})

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tenant.secret}", **extra}


@pytest.fixture
def live(
    transactional_db: None, gateway_url: str, simulator_url: str, settings: Any
) -> Iterator[Live]:
    settings.SIMULATOR_URL = f"{simulator_url}/v1"
    call_command("seed_catalog", verbosity=0)
    _add_backup_provider(f"{simulator_url}/v1")
    cache.clear()  # rate limits, breakers and abuse counters live in the test Redis database
    tenant = make_tenant("Livecorp", plan="team")
    with httpx.Client(base_url=simulator_url, timeout=10) as sim:
        live = Live(url=gateway_url, sim=sim, tenant=tenant)
        live.configure({})
        sim.post("/_sim/reset")
        yield live
        _wait_for_open_calls()


def _wait_for_open_calls(seconds: float = 15) -> None:
    """Let the server finish metering calls a test walked away from (a stream it closed)
    before the database is flushed under it."""
    deadline = time.monotonic() + seconds
    while ModelCall.objects.filter(status__in=[CallStatus.PENDING, CallStatus.STREAMING]).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


def _add_backup_provider(api_base: str) -> None:
    """A second provider (the same simulator under another name), so fallback can leave a
    provider whose breaker opened, as it would leave a real provider that is down."""
    backup = ModelProvider.objects.create(
        slug="backup", name="Backup", kind=ProviderKind.SIMULATOR, api_base=api_base, priority=95
    )
    standard = AIModel.objects.get(slug="sim/standard")
    standard.pk, standard.slug, standard.provider = None, BACKUP_MODEL, backup
    standard.display_name = "Backup Standard"
    standard.input_cost_per_mtok *= 2  # dearer, so it is only ever a fallback
    standard.output_cost_per_mtok *= 2
    standard.save()
