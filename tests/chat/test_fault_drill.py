"""Fault drill: 200 chats, 20 at a time, against a simulator failing a fifth of attempts in
mixed ways (500, 429, hang, cut mid-stream, malformed chunk). Afterwards the books must
balance: one billed usage set per answered request, the ledger equal to grants minus usage,
and no call left open."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from decimal import Decimal

import httpx

from billing.models import CreditLedger, LedgerKind, Plan
from billing.selectors import credit_balance
from tests.chat.conftest import Live
from usage.models import CallStatus, ModelCall, UsageRecord

CHATS = 200
CONCURRENCY = 20
FAILURES = {"500": 0.06, "429": 0.04, "hang": 0.03, "cut": 0.04, "malformed": 0.03}


async def one_chat(client: httpx.AsyncClient, live: Live, n: int) -> tuple[str, str, dict]:
    """(request id, outcome, last payload); outcome is done, partial, error or http-<status>."""
    request_id = f"drill-{n:03d}"
    headers = live.headers(**{"Idempotency-Key": request_id})
    body = {"message": f"Question {n}: how do tides work?", "max_tokens": 30}
    async with client.stream("POST", "/api/ai/chat", json=body, headers=headers) as response:
        if response.status_code != 200:
            payload = json.loads(await response.aread())
            return request_id, f"http-{response.status_code}", payload
        name, payload = None, {}
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                payload = json.loads(line[6:])
    if name == "error":
        return request_id, "partial" if payload["partial"] else "error", payload
    return request_id, str(name), payload


async def drill(live: Live) -> list[tuple[str, str, dict]]:
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as client:

        async def limited(n: int) -> tuple[str, str, dict]:
            async with gate:
                return await one_chat(client, live, n)

        return await asyncio.gather(*(limited(n) for n in range(CHATS)))


def test_fault_drill_keeps_the_books_exact(live: Live) -> None:
    Plan.objects.filter(slug="team").update(rpm=10_000, org_rpm=100_000, max_concurrency=64)
    live.configure({}, default={"failures": FAILURES, "retry_after": 1})

    results = asyncio.run(drill(live))

    outcomes = Counter(outcome for _, outcome, _ in results)
    assert sum(outcomes.values()) == CHATS
    assert set(outcomes) <= {"done", "partial", "error"}, outcomes
    assert outcomes["done"] >= CHATS * 0.8, outcomes  # fallback absorbs most failures
    for _, outcome, payload in results:
        if outcome != "done":
            assert payload["message"], payload  # every failure says what happened

    # Calls cancelled at the end of a stream finish a moment after the client is done.
    deadline = time.monotonic() + 10
    while ModelCall.objects.filter(status__in=[CallStatus.PENDING, CallStatus.STREAMING]).exists():
        assert time.monotonic() < deadline, "calls left open"
        time.sleep(0.1)

    org = live.tenant.org
    usage = UsageRecord.objects.for_org(org)
    billed = Counter(usage.values_list("request_id", flat=True))
    answered = {rid for rid, outcome, _ in results if outcome in {"done", "partial"}}
    assert set(billed) == answered
    assert max(billed.values()) == 1
    for request_id, outcome, _ in results:
        succeeded = ModelCall.objects.for_org(org).filter(
            request_id=request_id, status=CallStatus.SUCCEEDED
        )
        assert succeeded.count() == (1 if outcome == "done" else 0), request_id

    grants = sum(
        CreditLedger.objects.for_org(org)
        .filter(kind=LedgerKind.GRANT)
        .values_list("credits", flat=True),
        Decimal(0),
    )
    used = sum(usage.values_list("display_units", flat=True), Decimal(0))
    assert credit_balance(org=org) == grants - used
    failures = sum(
        live.stats(m).get("failed", {}) and sum(live.stats(m)["failed"].values()) or 0
        for m in ("sim/economy", "sim/standard", "sim/frontier", "backup/standard")
    )
    assert failures >= CHATS * 0.1  # the simulator really did fail a share of attempts
