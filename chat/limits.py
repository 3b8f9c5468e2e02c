"""Rate limits and concurrency slots, checked before any provider call.

Every web process shares one picture of who is sending how much, so all state lives in
Redis and each decision is one Lua script: check every limit, then record the request and
take a slot only if all of them pass. Two processes can never both see "one left" and both
take it, and a refused request leaves no trace, so hammering a limit does not extend it.

Per organisation, under `sb:limits:{<org_id>}:` (the braces are a Redis Cluster hash tag,
keeping one org's keys on one node so a single script may touch them all):

- `rpm:org` and `rpm:user:<user_id>`: sliding-window logs, sorted sets of the requests of
  the last 60 s scored by arrival time. Exact, unlike fixed windows that admit 2 × rpm
  around a minute boundary; the cost is one member per request, at most rpm of them.
- `slots:org` and `slots:user:<user_id>`: open streams scored by expiry. A process that
  crashes mid-stream never releases its slot, so every slot expires after
  `slot_ttl_seconds` and the script prunes expired members before counting.

Time is the Redis server's clock unless a test passes `now`: web hosts' clocks drift apart,
and a window shared by several hosts needs one clock.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass
from typing import Any

from rest_framework import status

from accounts.errors import ApplicationError
from accounts.redis import redis_script
from billing.types import Entitlement

KEY_PREFIX = "sb:limits:"
WINDOW_SECONDS = 60
# A slot normally frees when its stream ends, seconds after it started; its expiry is only
# the worst case after a crash. So a refusal for streams suggests a short wait rather than
# the time left on the oldest slot, which could be minutes.
SLOT_RETRY_AFTER_MAX_SECONDS = 5
FLAGGED_RPM_DIVISOR = 4


class RateLimited(ApplicationError):
    """Over a rate or concurrency limit; nothing was called. Sent with Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    error_type = "rate_limit_error"
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, extra: dict[str, Any] | None = None):
        super().__init__(message, {"retry_after": retry_after, **(extra or {})})
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class LimitPolicy:
    """The limits one request is checked against.

    `user_rpm` counts this user's requests in this organisation, `org_rpm` and
    `max_concurrency` the whole organisation's. `user_concurrency` caps this user's own open
    streams (0: only the organisation's cap applies). `tightened` marks the reduced policy of
    a user under an abuse flag, so refusals say why the limit is lower than the plan's.
    """

    user_rpm: int
    org_rpm: int
    max_concurrency: int
    user_concurrency: int = 0
    tightened: bool = False

    def __post_init__(self) -> None:
        # A zero limit would refuse every request with a message no one can act on: a plan
        # misconfigured that way should fail loudly where it is read, not at the customer.
        if min(self.user_rpm, self.org_rpm, self.max_concurrency) < 1:
            raise ValueError(f"limits must be at least 1: {self}")
        if self.user_concurrency < 0:
            raise ValueError(f"user_concurrency must be 0 (none) or more: {self}")


@dataclass(frozen=True)
class StreamSlot:
    """One open stream held in the organisation's (and the user's) slot sets."""

    org_id: int
    user_id: int
    request_id: str
    member: str  # unique per acquisition, so releasing one slot never frees another
    expires_at: float  # Redis clock, seconds since the epoch


def limit_policy(entitlement: Entitlement, *, flagged: bool) -> LimitPolicy:
    """The limits for one user: the plan's, or tightened while the user has an open abuse flag.

    A flagged user keeps a
    quarter of the plan's per-user rate (at least 1 a minute) and one stream at a time of
    their own, so a script hammering the gateway is slowed without locking a person out,
    and the rest of the organisation keeps its full limits.
    """
    org_limit = entitlement.org_rpm
    if not flagged:
        return LimitPolicy(
            user_rpm=entitlement.rpm,
            org_rpm=org_limit,
            max_concurrency=entitlement.max_concurrency,
        )
    return LimitPolicy(
        user_rpm=max(1, entitlement.rpm // FLAGGED_RPM_DIVISOR),
        org_rpm=org_limit,
        max_concurrency=entitlement.max_concurrency,
        user_concurrency=1,
        tightened=True,
    )


# KEYS: user window, org window, org slots, user slots.
# ARGV: now ("" = server clock), window, user rpm, org rpm, org concurrency,
#       user concurrency (0 = none), slot ttl, member, slot retry cap.
# Returns {"ok", expires_at} or {limit name, limit, wait in ms} for the limit that will take
# longest to clear, so a client that waits that long is not refused again by another.
_ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local window = tonumber(ARGV[2])
local ttl = tonumber(ARGV[7])
local member = ARGV[8]
local slot_cap = tonumber(ARGV[9])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)

-- Seconds until the entry whose departure makes room for one more leaves, or nil if there
-- is room now. Counting from the oldest covers sets above a limit lowered since they filled.
local function wait(key, limit, frees_after)
  local count = redis.call('ZCARD', key)
  if count < limit then return nil end
  local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(entry[2]) + frees_after - now
end

local worst, worst_wait, worst_limit = nil, -1, 0
local function check(name, key, limit, frees_after, cap)
  if limit <= 0 then return end
  local w = wait(key, limit, frees_after)
  if w == nil then return end
  if cap then w = math.min(w, cap) end
  if w > worst_wait then worst, worst_wait, worst_limit = name, w, limit end
end

check('user_rpm', KEYS[1], tonumber(ARGV[3]), window, nil)
check('org_rpm', KEYS[2], tonumber(ARGV[4]), window, nil)
check('org_concurrency', KEYS[3], tonumber(ARGV[5]), 0, slot_cap)
check('user_concurrency', KEYS[4], tonumber(ARGV[6]), 0, slot_cap)
if worst then
  return {worst, worst_limit, math.ceil(worst_wait * 1000)}
end

-- Each set may go once its newest entry has left it.
local function keep(key, frees_after)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local ms = math.ceil((tonumber(newest[2]) + frees_after - now) * 1000)
  redis.call('PEXPIRE', key, math.max(ms, 1) + 1000)
end

local expires_at = now + ttl
redis.call('ZADD', KEYS[1], now, member)
redis.call('ZADD', KEYS[2], now, member)
redis.call('ZADD', KEYS[3], expires_at, member)
redis.call('ZADD', KEYS[4], expires_at, member)
keep(KEYS[1], window)
keep(KEYS[2], window)
keep(KEYS[3], 0)
keep(KEYS[4], 0)
return {'ok', string.format('%.6f', expires_at)}
"""

# KEYS: org slots, user slots. ARGV: member. Removing a member that is gone is a no-op.
_RELEASE_LUA = """
return redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[2], ARGV[1])
"""


def _keys(org_id: int, user_id: int) -> tuple[str, str, str, str]:
    """User window, org window, org slots, user slots, all in the org's hash slot."""
    base = f"{KEY_PREFIX}{{{org_id}}}:"
    return (
        f"{base}rpm:user:{user_id}",
        f"{base}rpm:org",
        f"{base}slots:org",
        f"{base}slots:user:{user_id}",
    )


async def limits_acquire(
    *,
    org_id: int,
    user_id: int,
    policy: LimitPolicy,
    request_id: str,
    slot_ttl_seconds: int,
    now: float | None = None,
) -> StreamSlot:
    """Count the request and take a stream slot, atomically, or raise `RateLimited`.

    A refused request is not counted. The slot frees itself after `slot_ttl_seconds` if
    never released, so pick a ttl longer than the longest stream. `now` is for tests.
    """
    if slot_ttl_seconds < 1:
        raise ValueError("slot_ttl_seconds must be at least 1")
    member = f"{request_id}:{secrets.token_hex(8)}"
    args: list[str | int] = [
        "" if now is None else repr(now),
        WINDOW_SECONDS,
        policy.user_rpm,
        policy.org_rpm,
        policy.max_concurrency,
        policy.user_concurrency,
        slot_ttl_seconds,
        member,
        SLOT_RETRY_AFTER_MAX_SECONDS,
    ]
    result = await redis_script(_ACQUIRE_LUA)(keys=_keys(org_id, user_id), args=args)
    if result[0] != "ok":
        raise _refusal(result[0], int(result[1]), int(result[2]), policy)
    return StreamSlot(
        org_id=org_id,
        user_id=user_id,
        request_id=request_id,
        member=member,
        expires_at=float(result[1]),
    )


def _refusal(limit: str, value: int, wait_ms: int, policy: LimitPolicy) -> RateLimited:
    retry_after = max(1, math.ceil(wait_ms / 1000))
    scope = "while your account is under review" if policy.tightened else "on your plan"
    requests = "request" if value == 1 else "requests"
    messages = {
        "user_rpm": f"Rate limit: {value} {requests} per minute per user {scope}; "
        f"retry in {retry_after} s",
        "org_rpm": f"Rate limit: {value} {requests} per minute per organisation on your plan; "
        f"retry in {retry_after} s",
        "org_concurrency": f"Too many open streams: {value} at once on your plan",
        "user_concurrency": f"Too many open streams: {value} at once per user {scope}",
    }
    return RateLimited(messages[limit], retry_after=retry_after, extra={"limit": limit})


class SlotRelease:
    """Gives a chat's slot back once: started as soon as its provider stream ends (billing
    needs no slot, and runs meanwhile), awaited when the chat ends."""

    def __init__(self, slot: StreamSlot) -> None:
        self.slot = slot
        self.task: asyncio.Future[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(slot_release(self.slot))

    async def finish(self) -> None:
        self.start()
        assert self.task is not None  # noqa: S101 - start() set it
        await self.task


async def slot_release(slot: StreamSlot) -> None:
    """Give the slot back; releasing twice, or after it expired, does nothing."""
    _, _, org_slots, user_slots = _keys(slot.org_id, slot.user_id)
    await redis_script(_RELEASE_LUA)(keys=[org_slots, user_slots], args=[slot.member])
