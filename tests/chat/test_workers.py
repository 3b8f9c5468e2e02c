"""Two web processes share one picture of limits, breakers and keys (Redis and PostgreSQL),
as `WEB_CONCURRENCY` workers or containers behind a load balancer do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ApiKey
from billing.models import Plan
from tests.chat.conftest import BACKUP_MODEL, LIVE_SETTINGS, Live
from tests.servers import database_url, gateway

PROMPT = "Tell me something cheerful about the weather today."
BODY = {"message": PROMPT, "max_tokens": 3, "stream": False}


@pytest.fixture(scope="session")
def second_url(
    gateway_url: str, simulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {**LIVE_SETTINGS, "DATABASE_URL": database_url(connection.settings_dict)}
    with gateway(tmp_path_factory.mktemp("second") / "web.log", env) as url:
        yield url


def chat(url: str, live: Live, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/ai/chat", json=BODY | body, headers=live.headers(), timeout=20)


def test_a_rate_limit_counts_requests_on_both_processes(live: Live, second_url: str) -> None:
    Plan.objects.filter(slug="team").update(rpm=3)

    statuses = [chat(url, live).status_code for url in (live.url, second_url) * 2]

    assert statuses == [200, 200, 200, 429]


def test_a_stream_open_on_one_process_holds_the_slot_on_the_other(
    live: Live, second_url: str
) -> None:
    Plan.objects.filter(slug="team").update(max_concurrency=1)
    live.configure({"sim/economy": {"tokens_per_second": 20}})
    body = {"message": PROMPT, "max_tokens": 60}

    with httpx.stream(
        "POST", f"{live.url}/api/ai/chat", json=body, headers=live.headers(), timeout=20
    ) as first:
        lines = first.iter_lines()
        while not next(lines).startswith("event: delta"):
            pass
        refused = chat(second_url, live)
    after = chat(second_url, live)

    assert refused.status_code == 429
    assert "open streams" in refused.json()["error"]["message"]
    assert after.status_code == 200


def test_a_breaker_opened_by_one_process_routes_the_other_around_the_provider(
    live: Live, second_url: str
) -> None:
    down = {"error_rate": 1, "error_status": [500]}
    live.configure({m: down for m in ("sim/economy", "sim/standard", "sim/frontier")})
    chat(live.url, live)  # five consecutive 500s on this process open the breaker
    tried = live.stats("sim/economy").get("requests", 0)

    reply = chat(second_url, live)

    assert reply.status_code == 200
    assert reply.json()["done"]["model"] == BACKUP_MODEL
    assert live.stats("sim/economy").get("requests", 0) == tried  # not even tried


def test_a_revoked_key_is_refused_by_both_processes(live: Live, second_url: str) -> None:
    assert chat(second_url, live).status_code == 200
    ApiKey.objects.filter(pk=live.tenant.key.pk).update(revoked_at=timezone.now())

    assert [chat(url, live).status_code for url in (live.url, second_url)] == [401, 401]
