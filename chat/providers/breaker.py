"""A circuit breaker per provider, kept in Redis so every web process sees the same state.

closed --(BREAKER_FAILURE_THRESHOLD consecutive failures)--> open for BREAKER_COOLDOWN_SECONDS
--> half-open: one trial call at a time --> a success closes it, a failure opens it again.

Keys, all under `sb:breaker:` (routing/breakers.py names them, and shows and resets the
breakers for staff):
  failures        hash, provider -> consecutive failures
  open            hash, provider -> end of the cool-down, in ms by Redis' clock
  trial:<slug>    the half-open trial's lock (SET NX), expiring in case its outcome is lost

Every decision that reads then writes runs as one Lua script, so concurrent callers cannot
both take the trial, and time comes from Redis (TIME) so hosts with skewed clocks agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from redis import Redis
from redis.commands.core import Script

from accounts.redis import redis_async, redis_script, redis_sync
from routing.breakers import FAILURES, OPEN, breaker_trial_key

# ARGV[1] is the time in ms, or "" for Redis' own clock (tests pin it).
_NOW_MS = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""
# KEYS: open, trial lock. ARGV: now, provider, trial lock ttl (ms).
_ALLOWS = (
    _NOW_MS
    + """
local open_until = redis.call('HGET', KEYS[1], ARGV[2])
if not open_until then return 1 end
if now < tonumber(open_until) then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 1 end
return 0
"""
)
# KEYS: failures, open, trial lock. ARGV: now, provider, threshold, cool-down (ms).
# Returns 1 when this failure opened the breaker.
_FAILURE = (
    _NOW_MS
    + """
local failures = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
local open_until = redis.call('HGET', KEYS[2], ARGV[2])
if open_until and now < tonumber(open_until) then return 0 end
if open_until or failures >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[2], ARGV[2], now + tonumber(ARGV[4]))
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""
)
# KEYS: open, failures. ARGV: now. Returns {providers in their cool-down, providers with any
# breaker state}.
_VIEW = (
    _NOW_MS
    + """
local entries = redis.call('HGETALL', KEYS[1])
local cooling = {}
local unsettled = redis.call('HKEYS', KEYS[2])
for i = 1, #entries, 2 do
  table.insert(unsettled, entries[i])
  if now < tonumber(entries[i + 1]) then table.insert(cooling, entries[i]) end
end
return {cooling, unsettled}
"""
)


@dataclass(frozen=True)
class BreakerView:
    """Every provider's breaker as one request sees it, read in one round trip.

    `cooling`: open and in their cool-down; the policy engine routes around them.
    `unsettled`: open, half-open or with failures counted. Only these need the per-attempt
    trial check and the reset after a success, so a healthy provider costs no further trip.
    """

    cooling: frozenset[str]
    unsettled: frozenset[str]


def _threshold() -> int:
    return settings.BREAKER_FAILURE_THRESHOLD


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _cooldown_ms() -> int:
    return _ms(settings.BREAKER_COOLDOWN_SECONDS)


def _trial_ms() -> int:
    # Longer than a trial needs to reach its first token (Timeouts.first_byte is 30 s), so a
    # slow trial keeps its lock; short enough that a lost outcome does not stall the provider.
    return _ms(settings.BREAKER_TRIAL_SECONDS)


def _now_ms(now: datetime | None) -> str:
    return "" if now is None else str(int(now.timestamp() * 1000))


async def breaker_allows(provider: str, *, now: datetime | None = None) -> bool:
    """Closed: yes. Open: no until the cool-down ends. Half-open: yes to one caller at a time.

    The half-open trial holds a lock (SET NX) until its outcome is recorded or the lock
    expires (BREAKER_TRIAL_SECONDS). `now` pins the clock for tests; Redis' clock otherwise.
    """
    keys = [OPEN, breaker_trial_key(provider)]
    allowed = await redis_script(_ALLOWS)(keys=keys, args=[_now_ms(now), provider, _trial_ms()])
    return bool(allowed)


async def breaker_record_success(provider: str) -> None:
    """Close the breaker and reset its failure count (atomic, MULTI)."""
    async with redis_async().pipeline(transaction=True) as pipe:
        pipe.hdel(FAILURES, provider)
        pipe.hdel(OPEN, provider)
        pipe.delete(breaker_trial_key(provider))
        await pipe.execute()


async def breaker_record_failure(provider: str, *, now: datetime | None = None) -> bool:
    """Count a consecutive failure; True when this one opened (or re-opened) the breaker.

    A failed half-open trial re-opens it at once; failures while open keep its cool-down.
    """
    keys = [FAILURES, OPEN, breaker_trial_key(provider)]
    args: list[str | int] = [_now_ms(now), provider, _threshold(), _cooldown_ms()]
    return bool(await redis_script(_FAILURE)(keys=keys, args=args))


def breaker_view(*, now: datetime | None = None) -> BreakerView:
    """The breakers for routing one request (half-open providers are not `cooling`, so
    routing still sends them the trial call)."""
    cooling, unsettled = _view_script()(keys=[OPEN, FAILURES], args=[_now_ms(now)])
    return BreakerView(cooling=frozenset(cooling), unsettled=frozenset(unsettled))


async def breaker_view_async(*, now: datetime | None = None) -> BreakerView:
    """`breaker_view` on the running loop's connection."""
    cooling, unsettled = await redis_script(_VIEW)(keys=[OPEN, FAILURES], args=[_now_ms(now)])
    return BreakerView(cooling=frozenset(cooling), unsettled=frozenset(unsettled))


def _view_script() -> Script:
    return _registered(redis_sync())


@cache
def _registered(client: Redis) -> Script:
    return client.register_script(_VIEW)
