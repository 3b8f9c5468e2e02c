"""The provider circuit breaker against the real Valkey of the test settings.

Time-dependent tests pin the clock with `now=` (the breaker otherwise reads Redis' clock);
the cool-down is long enough that tests which do not pin it never see it end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.redis import redis_async_close
from chat.providers.breaker import (
    FAILURES,
    breaker_allows,
    breaker_record_failure,
    breaker_record_success,
    breaker_view,
)

pytestmark = pytest.mark.anyio

COOLDOWN = timedelta(seconds=30)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def provider(settings: Settings) -> str:
    settings.BREAKER_FAILURE_THRESHOLD = 3
    settings.BREAKER_COOLDOWN_SECONDS = COOLDOWN.total_seconds()
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def t0() -> datetime:
    return timezone.now()


@pytest.fixture(autouse=True)
async def _clean(provider: str) -> AsyncIterator[None]:
    yield
    await breaker_record_success(provider)  # removes every trace of the provider
    await redis_async_close()


async def open_breaker(provider: str, now: datetime | None = None) -> None:
    for _ in range(3):
        await breaker_record_failure(provider, now=now)


async def test_opens_after_threshold_consecutive_failures(provider: str) -> None:
    opened = [await breaker_record_failure(provider) for _ in range(3)]

    assert opened == [False, False, True]
    assert await breaker_allows(provider) is False
    assert provider in breaker_view().cooling


async def test_allows_calls_below_the_threshold(provider: str) -> None:
    await breaker_record_failure(provider)
    await breaker_record_failure(provider)

    assert await breaker_allows(provider) is True
    assert provider not in breaker_view().cooling
    with redis.Redis.from_url(django_settings.REDIS_URL, decode_responses=True) as client:
        assert client.hget(FAILURES, provider) == "2"


async def test_success_resets_the_consecutive_count(provider: str) -> None:
    await breaker_record_failure(provider)
    await breaker_record_failure(provider)
    await breaker_record_success(provider)
    opened = [await breaker_record_failure(provider) for _ in range(2)]

    assert opened == [False, False]
    assert await breaker_allows(provider) is True


async def test_stays_open_until_the_cooldown_ends(provider: str, t0: datetime) -> None:
    await open_breaker(provider, t0)
    almost, after = t0 + COOLDOWN - timedelta(milliseconds=5), t0 + COOLDOWN

    assert await breaker_allows(provider, now=almost) is False
    assert await breaker_allows(provider, now=after) is True


async def test_half_open_allows_exactly_one_trial(provider: str, t0: datetime) -> None:
    await open_breaker(provider, t0)
    later = t0 + COOLDOWN

    first, second = await asyncio.gather(
        breaker_allows(provider, now=later), breaker_allows(provider, now=later)
    )
    third = await breaker_allows(provider, now=later)

    assert sorted([first, second]) == [False, True]
    assert third is False


async def test_successful_trial_closes_the_breaker(provider: str, t0: datetime) -> None:
    await open_breaker(provider, t0)
    assert await breaker_allows(provider, now=t0 + COOLDOWN) is True

    await breaker_record_success(provider)

    assert [await breaker_allows(provider) for _ in range(3)] == [True, True, True]
    assert await breaker_record_failure(provider) is False  # the count starts again


async def test_failed_trial_opens_for_another_cooldown(provider: str, t0: datetime) -> None:
    await open_breaker(provider, t0)
    trial = t0 + COOLDOWN
    assert await breaker_allows(provider, now=trial) is True

    assert await breaker_record_failure(provider, now=trial) is True
    assert await breaker_allows(provider, now=trial + COOLDOWN / 2) is False
    assert provider in breaker_view(now=trial + COOLDOWN / 2).cooling
    assert await breaker_allows(provider, now=trial + COOLDOWN) is True


async def test_failures_while_open_do_not_extend_the_cooldown(provider: str, t0: datetime) -> None:
    await open_breaker(provider, t0)

    # A call that started before the breaker opened reports back late.
    assert await breaker_record_failure(provider, now=t0 + COOLDOWN / 2) is False
    assert await breaker_allows(provider, now=t0 + COOLDOWN) is True


async def test_lost_trial_lock_expires(provider: str, settings: Settings, t0: datetime) -> None:
    settings.BREAKER_TRIAL_SECONDS = 0.5
    await open_breaker(provider, t0)
    later = t0 + COOLDOWN
    assert await breaker_allows(provider, now=later) is True  # this trial never reports back

    assert await breaker_allows(provider, now=later) is False
    await asyncio.sleep(0.6)  # the lock's TTL is real time in Redis
    assert await breaker_allows(provider, now=later) is True


async def test_open_providers_lists_only_those_in_cooldown(provider: str, t0: datetime) -> None:
    healthy = f"{provider}-healthy"
    await open_breaker(provider, t0)
    await breaker_record_failure(healthy, now=t0)

    listed = breaker_view(now=t0)
    half_open = breaker_view(now=t0 + COOLDOWN)
    await breaker_record_success(healthy)
    settled = breaker_view(now=t0)

    assert provider in listed.cooling
    assert healthy not in listed.cooling
    assert provider not in half_open.cooling  # routing must still send it the trial call
    # Anything with breaker state goes through the trial check and the reset on success.
    assert {provider, healthy} <= listed.unsettled
    assert provider in half_open.unsettled
    assert healthy not in settled.unsettled


async def test_state_is_shared_between_processes(provider: str) -> None:
    async def other_process() -> bool:
        # Its own event loop and so its own Redis client, as in a second web process.
        try:
            await open_breaker(provider)
            return await breaker_allows(provider)
        finally:
            await redis_async_close()

    allowed_there = await asyncio.to_thread(asyncio.run, other_process())

    assert allowed_there is False
    assert await breaker_allows(provider) is False
    assert provider in breaker_view().cooling
