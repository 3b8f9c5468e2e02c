"""Rate limits and stream slots against the real Valkey; no database needed.

Most tests pass `now` so windows can be walked through without sleeping; the expiry test
uses the server's clock. Only keys under `sb:limits:` are removed between tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import anyio
import pytest
import redis
from django.conf import settings

from accounts.errors import api_exception_handler
from accounts.redis import redis_async, redis_async_close
from billing.types import Entitlement
from chat.limits import (
    KEY_PREFIX,
    LimitPolicy,
    RateLimited,
    StreamSlot,
    limit_policy,
    limits_acquire,
    slot_release,
)

pytestmark = pytest.mark.anyio

ORG, OTHER_ORG = 9101, 9102
ALICE, BOB = 501, 502
T0 = 1_000_000.0  # a fixed "now" far from the real clock, for window arithmetic


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _delete_limit_keys() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _clean_limit_keys() -> Iterator[None]:
    _delete_limit_keys()
    yield
    _delete_limit_keys()


@pytest.fixture(autouse=True)
async def _close_client(anyio_backend: str) -> AsyncIterator[None]:
    yield
    await redis_async_close()  # the client belongs to this test's event loop


def policy(user_rpm: int = 100, org_rpm: int = 1000, max_concurrency: int = 100) -> LimitPolicy:
    return LimitPolicy(user_rpm=user_rpm, org_rpm=org_rpm, max_concurrency=max_concurrency)


async def acquire(
    policy: LimitPolicy,
    *,
    org_id: int = ORG,
    user_id: int = ALICE,
    now: float | None = T0,
    ttl: int = 60,
    request_id: str = "req",
) -> StreamSlot:
    return await limits_acquire(
        org_id=org_id,
        user_id=user_id,
        policy=policy,
        request_id=request_id,
        slot_ttl_seconds=ttl,
        now=now,
    )


def entitlement(rpm: int = 60, max_concurrency: int = 4, org_rpm: int = 0) -> Entitlement:
    return Entitlement(
        plan_slug="pro",
        plan_name="Pro",
        families=frozenset({"general"}),
        models=frozenset(),
        modes=frozenset({"auto"}),
        max_context=128_000,
        rpm=rpm,
        org_rpm=org_rpm or 10 * rpm,
        max_concurrency=max_concurrency,
        images_allowed=True,
        denied_categories=frozenset(),
        display_multiplier=Decimal("1.5"),
        credits_left=Decimal(100),
        period_start=datetime(2025, 1, 1, tzinfo=UTC),
        period_end=datetime(2025, 2, 1, tzinfo=UTC),
    )


# --- policy -------------------------------------------------------------------------------


async def test_policy_is_the_plans() -> None:
    assert limit_policy(entitlement(rpm=60, max_concurrency=4), flagged=False) == (
        LimitPolicy(user_rpm=60, org_rpm=600, max_concurrency=4)
    )
    assert limit_policy(entitlement(org_rpm=250), flagged=False).org_rpm == 250


async def test_flagged_user_gets_a_quarter_of_the_rate_and_one_stream_of_their_own() -> None:
    tight = limit_policy(entitlement(rpm=60, max_concurrency=4), flagged=True)
    assert (tight.user_rpm, tight.user_concurrency, tight.tightened) == (15, 1, True)
    # The organisation's limits are not the flagged user's to lose.
    assert (tight.org_rpm, tight.max_concurrency) == (600, 4)
    assert limit_policy(entitlement(rpm=3), flagged=True).user_rpm == 1


async def test_a_zero_limit_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LimitPolicy(user_rpm=0, org_rpm=10, max_concurrency=1)


# --- request rates ------------------------------------------------------------------------


async def test_user_rpm_refuses_with_the_time_until_the_oldest_request_leaves() -> None:
    limits = policy(user_rpm=10)
    for second in range(10):
        await acquire(limits, now=T0 + second)

    with pytest.raises(RateLimited) as refused:
        await acquire(limits, now=T0 + 56)

    assert refused.value.retry_after == 4  # the request at T0 leaves the window at T0 + 60
    assert refused.value.message == (
        "Rate limit: 10 requests per minute per user on your plan; retry in 4 s"
    )
    assert refused.value.extra == {"retry_after": 4, "limit": "user_rpm"}


async def test_refused_requests_do_not_count_against_the_window() -> None:
    limits = policy(user_rpm=10)
    for second in range(10):
        await acquire(limits, now=T0 + second)
    for second in (56, 57, 58, 59.5):
        with pytest.raises(RateLimited):
            await acquire(limits, now=T0 + second)

    # Had the refusals counted, the window would still be full at T0 + 60 and T0 + 61.
    await acquire(limits, now=T0 + 60)
    await acquire(limits, now=T0 + 61)
    with pytest.raises(RateLimited) as refused:
        await acquire(limits, now=T0 + 61.5)
    assert refused.value.retry_after == 1  # the request at T0 + 2 leaves at T0 + 62


async def test_org_rpm_counts_every_user_in_the_organisation() -> None:
    limits = policy(user_rpm=10, org_rpm=3)
    await acquire(limits, user_id=ALICE, now=T0)
    await acquire(limits, user_id=ALICE, now=T0 + 1)
    await acquire(limits, user_id=BOB, now=T0 + 2)

    with pytest.raises(RateLimited) as refused:
        await acquire(limits, user_id=BOB, now=T0 + 30)

    assert refused.value.retry_after == 30
    assert refused.value.message == (
        "Rate limit: 3 requests per minute per organisation on your plan; retry in 30 s"
    )


async def test_when_several_limits_are_hit_the_longest_wait_is_reported() -> None:
    limits = policy(user_rpm=2, org_rpm=3)
    await acquire(limits, user_id=BOB, now=T0)
    await acquire(limits, user_id=ALICE, now=T0 + 10)
    await acquire(limits, user_id=ALICE, now=T0 + 20)

    # Alice's own window frees at T0 + 70, the organisation's already at T0 + 60.
    with pytest.raises(RateLimited) as refused:
        await acquire(limits, user_id=ALICE, now=T0 + 50)
    assert (refused.value.extra["limit"], refused.value.retry_after) == ("user_rpm", 20)


async def test_limits_of_one_org_or_user_never_touch_another() -> None:
    limits = policy(user_rpm=2, org_rpm=100, max_concurrency=2)
    await acquire(limits, user_id=ALICE)
    await acquire(limits, user_id=ALICE)
    with pytest.raises(RateLimited):
        await acquire(limits, user_id=ALICE)

    # Bob in the same organisation still has his own rate; the org's 2 streams are now full.
    with pytest.raises(RateLimited, match="open streams"):
        await acquire(limits, user_id=BOB)
    # The same user id in another organisation starts from nothing.
    await acquire(limits, org_id=OTHER_ORG, user_id=ALICE)
    await acquire(limits, org_id=OTHER_ORG, user_id=ALICE)


async def test_same_user_keeps_separate_rates_per_organisation_and_bob_his_own() -> None:
    limits = policy(user_rpm=1)
    await acquire(limits, user_id=ALICE)
    await acquire(limits, user_id=BOB)
    await acquire(limits, org_id=OTHER_ORG, user_id=ALICE)
    with pytest.raises(RateLimited):
        await acquire(limits, user_id=ALICE)


# --- concurrency slots --------------------------------------------------------------------


async def test_concurrency_cap_and_release_frees_a_slot() -> None:
    limits = policy(max_concurrency=2)
    first = await acquire(limits, user_id=ALICE)
    await acquire(limits, user_id=BOB)

    with pytest.raises(RateLimited) as refused:
        await acquire(limits, user_id=ALICE)
    assert refused.value.message == "Too many open streams: 2 at once on your plan"
    # Slots hold 60 s, but streams end much sooner: the hint stays short.
    assert refused.value.retry_after == 5

    await slot_release(first)
    await acquire(limits, user_id=ALICE)


async def test_releasing_twice_is_harmless_and_frees_only_its_own_slot() -> None:
    limits = policy(max_concurrency=2)
    # The same request id twice (a retried request): still two distinct slots.
    first = await acquire(limits, request_id="same")
    await acquire(limits, request_id="same")

    await slot_release(first)
    await slot_release(first)

    await acquire(limits)
    with pytest.raises(RateLimited, match="open streams"):
        await acquire(limits)


async def test_slots_of_a_crashed_process_expire_on_their_own() -> None:
    limits = policy(max_concurrency=1)
    await acquire(limits, now=None, ttl=1)  # never released, as if the process died

    with pytest.raises(RateLimited) as refused:
        await acquire(limits, now=None, ttl=1)
    assert refused.value.retry_after == 1

    await anyio.sleep(1.1)
    slot = await acquire(limits, now=None, ttl=1)
    await slot_release(slot)


async def test_expired_slots_are_pruned_from_the_set() -> None:
    limits = policy(max_concurrency=5)
    for _ in range(3):
        await acquire(limits, now=T0, ttl=1)
    await acquire(limits, now=T0 + 2, ttl=1)

    members = await redis_async().zcard(f"{KEY_PREFIX}{{{ORG}}}:slots:org")
    assert members == 1


# --- several web processes ----------------------------------------------------------------


def _other_process(limits: LimitPolicy) -> tuple[int, list[int]]:
    """In a thread with its own event loop, hence its own client and connection pool."""

    async def run() -> tuple[int, list[int]]:
        client_id = id(redis_async())
        retry_afters = []
        try:
            await acquire(limits, now=T0 + 1)
            try:
                await acquire(limits, now=T0 + 2)
            except RateLimited as refused:
                retry_afters.append(refused.retry_after)
        finally:
            await redis_async_close()
        return client_id, retry_afters

    return asyncio.run(run())


async def test_two_processes_with_their_own_clients_share_the_counters() -> None:
    limits = policy(user_rpm=2)
    await acquire(limits, now=T0)

    client_id, retry_afters = await anyio.to_thread.run_sync(_other_process, limits)

    assert client_id != id(redis_async())
    assert retry_afters == [58]  # the other process saw this one's request at T0
    with pytest.raises(RateLimited):
        await acquire(limits, now=T0 + 3)  # and this one sees the other's


async def test_concurrent_acquires_never_overshoot_the_cap() -> None:
    limits = policy(max_concurrency=3)
    outcomes: list[bool] = []

    async def attempt(user_id: int) -> None:
        try:
            await acquire(limits, user_id=user_id)
            outcomes.append(True)
        except RateLimited:
            outcomes.append(False)

    async with anyio.create_task_group() as group:
        for user_id in range(20):
            group.start_soon(attempt, user_id)

    assert outcomes.count(True) == 3


# --- the tightened policy -----------------------------------------------------------------


async def test_a_flagged_user_is_held_to_their_tightened_limits_only() -> None:
    ent = entitlement(rpm=8, max_concurrency=4)
    flagged = limit_policy(ent, flagged=True)
    normal = limit_policy(ent, flagged=False)

    slot = await acquire(flagged, user_id=ALICE, now=T0)
    with pytest.raises(RateLimited) as refused:
        await acquire(flagged, user_id=ALICE, now=T0 + 1)
    assert refused.value.message == (
        "Too many open streams: 1 at once per user while your account is under review"
    )
    # Teammates still open streams up to the organisation's cap.
    for second in range(3):
        await acquire(normal, user_id=BOB, now=T0 + second)

    # The refusal at T0 + 1 did not count: one more request fits in the minute.
    await slot_release(slot)
    await slot_release(await acquire(flagged, user_id=ALICE, now=T0 + 4))
    with pytest.raises(RateLimited) as refused:
        await acquire(flagged, user_id=ALICE, now=T0 + 5)
    assert refused.value.message == (
        "Rate limit: 2 requests per minute per user while your account is under review; "
        "retry in 55 s"
    )


# --- the HTTP shape of a refusal ----------------------------------------------------------


async def test_refusal_renders_as_429_with_retry_after_and_an_openai_error_body() -> None:
    limits = policy(user_rpm=1)
    await acquire(limits, now=T0)
    with pytest.raises(RateLimited) as refused:
        await acquire(limits, now=T0 + 20)

    response = api_exception_handler(refused.value, {})

    assert response is not None
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "40"
    assert response.data == {
        "error": {
            "message": "Rate limit: 1 request per minute per user on your plan; retry in 40 s",
            "type": "rate_limit_error",
            "code": "rate_limited",
            "param": None,
            "retry_after": 40,
            "limit": "user_rpm",
        }
    }
