"""The chat path samples billed economy answers for shadow audits and enqueues them after
the bill (a Celery message on the real broker), and the queued task audits the answer."""

from __future__ import annotations

import base64
import json
import time
from decimal import Decimal

import httpx
import pytest
from django.conf import settings
from redis import Redis

from billing.models import Subscription
from chat.tasks import shadow_audit_run_task
from routing.models import ShadowAudit
from tests.chat.conftest import Live
from usage.models import ModelCall

PROMPT = "Suggest a fun weekend activity for a family."  # chat, low: the economy model
TASK = "chat.tasks.shadow_audit_run_task"


def queued_audits(seconds: float = 0.0) -> list[list[object]]:
    """The args of every audit task waiting on the broker's default queue."""
    broker = Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + seconds
    while True:
        messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
        found = [
            json.loads(base64.b64decode(m["body"]))[0]
            for m in messages
            if m["headers"]["task"] == TASK
        ]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def chat(live: Live) -> httpx.Response:
    body = {"message": PROMPT, "stream": False, "assistant": "generalist"}
    return httpx.post(f"{live.url}/api/ai/chat", json=body, headers=live.headers(), timeout=30)


@pytest.mark.parametrize(("rate", "expected"), [("1", 1), ("0", 0)])
def test_a_billed_economy_answer_is_enqueued_for_audit_at_the_orgs_rate(
    live: Live, rate: str, expected: int
) -> None:
    Subscription.objects.for_org(live.tenant.org).update(audit_rate=Decimal(rate))

    response = chat(live)

    assert response.status_code == 200, response.text
    call = ModelCall.objects.for_org(live.tenant.org).get()
    assert call.model.slug == "sim/economy"
    queued = queued_audits(seconds=3 if expected else 0.5)
    assert len(queued) == expected
    assert all(args[:2] == [live.tenant.org.pk, call.pk] for args in queued)
    assert all(args[2] in {"low", "medium", "high"} for args in queued)
    if expected:
        verdict = shadow_audit_run_task(*queued[0])
        again = shadow_audit_run_task(*queued[0])
        assert verdict in {"pass", "poor"} and again == verdict
        assert ShadowAudit.objects.for_org(live.tenant.org).get().model_call_id == call.pk
