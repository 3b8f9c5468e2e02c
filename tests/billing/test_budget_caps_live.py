"""Budget caps over HTTP, against the gateway and the simulator: a chat that would pass a cap
is refused with a 402 before any provider request."""

from __future__ import annotations

from decimal import Decimal

import httpx

from billing.budget import budget_cap_set
from tests.accounts.factories import ApiKeyFactory
from tests.chat.conftest import Live
from tests.conftest import make_tenant
from usage.models import ModelCall

PROMPT = "Say hello in one short sentence."


def _chat(live: Live, secret: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": PROMPT}]},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=15,
    )


def _upstream_requests(live: Live) -> int:
    stats = live.sim.get("/_sim/stats").json()["models"]
    return sum(model.get("requests", 0) for model in stats.values())


def test_a_chat_that_would_pass_the_organisations_cap_is_refused_before_any_upstream_call(
    live: Live,
) -> None:
    budget_cap_set(org=live.tenant.org, actor=live.tenant.owner, monthly_credits=Decimal("0.0001"))

    response = _chat(live, live.tenant.secret)

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "budget_cap_reached"
    assert "the organisation's monthly budget cap" in error["message"]
    assert error["billing_url"] == "/app/billing/"
    assert _upstream_requests(live) == 0
    assert not ModelCall.objects.exists()


def test_a_keys_cap_stops_that_key_and_not_another(live: Live) -> None:
    tenant = live.tenant
    other_secret = "sb_livecorp_second_key_0123456789abcdef"
    ApiKeyFactory(organization=tenant.org, user=tenant.owner, secret=other_secret)
    budget_cap_set(
        org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(0), api_key=tenant.key
    )

    capped = _chat(live, tenant.secret)
    free = _chat(live, other_secret)

    assert capped.status_code == 402 and "this API key's" in capped.json()["error"]["message"]
    assert free.status_code == 200
    assert _upstream_requests(live) == 1


def test_a_cap_in_one_organisation_does_not_stop_another(live: Live) -> None:
    other = make_tenant("Othercorp", plan="team")
    budget_cap_set(org=other.org, actor=other.owner, monthly_credits=Decimal(0))

    assert _chat(live, other.secret).status_code == 402
    assert _chat(live, live.tenant.secret).status_code == 200
