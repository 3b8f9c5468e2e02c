"""The providers' circuit breakers as staff and routing's health see them: their Redis keys,
each provider's state, and the audited reset. The breakers themselves (the Lua scripts the
chat path runs) are in chat/providers/breaker.py; both read the keys defined here.

State: `closed` (no entry, maybe some failures counted), `open` (in its cool-down) or
`half_open` (the cool-down is over; the next call is the trial).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.redis import redis_sync
from accounts.services import audit_log_record

PREFIX = "sb:breaker:"
FAILURES = PREFIX + "failures"  # hash: provider -> consecutive failures
OPEN = PREFIX + "open"  # hash: provider -> end of the cool-down, ms since the epoch


def breaker_trial_key(provider: str) -> str:
    return f"{PREFIX}trial:{provider}"


@dataclass(frozen=True)
class BreakerState:
    provider: str
    state: str  # closed | open | half_open
    failures: int
    since: datetime | None  # when it opened (the cool-down's start); None while closed
    until: datetime | None  # the end of the cool-down


def _ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def breaker_states(*, providers: list[str], now: datetime) -> dict[str, BreakerState]:
    """Every listed provider's breaker, read in one round trip."""
    pipe = redis_sync().pipeline(transaction=False)
    pipe.hgetall(OPEN)
    pipe.hgetall(FAILURES)
    opened, failures = pipe.execute()
    cooldown = timedelta(seconds=settings.BREAKER_COOLDOWN_SECONDS)
    states = {}
    for provider in providers:
        count = int(failures.get(provider, 0))
        if provider not in opened:
            states[provider] = BreakerState(provider, "closed", count, None, None)
            continue
        until = _ms_to_datetime(int(opened[provider]))
        state = "open" if now < until else "half_open"
        states[provider] = BreakerState(provider, state, count, until - cooldown, until)
    return states


def breaker_open_providers(*, now: datetime) -> dict[str, bool]:
    """Provider -> whether its breaker is open (in its cool-down), for the metrics scrape."""
    opened = redis_sync().hgetall(OPEN)
    return {str(provider): now < _ms_to_datetime(int(ms)) for provider, ms in opened.items()}


def breaker_reset(*, provider: str, actor: User, reason: str) -> BreakerState:
    """Close a provider's breaker and forget its failures, audited as `breaker.reset`."""
    before = breaker_states(providers=[provider], now=timezone.now())[provider]
    pipe = redis_sync().pipeline(transaction=True)
    pipe.hdel(FAILURES, provider)
    pipe.hdel(OPEN, provider)
    pipe.delete(breaker_trial_key(provider))
    pipe.execute()
    audit_log_record(
        actor=actor,
        org=None,
        action="breaker.reset",
        target=f"ModelProvider {provider}",
        before={"state": before.state, "failures": before.failures},
        after={"state": "closed", "failures": 0, "reason": reason},
    )
    return BreakerState(provider, "closed", 0, None, None)
