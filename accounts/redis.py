"""The Redis (Valkey) clients every app shares: rate limits, breakers and abuse counters.

Async clients are bound to the event loop that opened their connections, and the web server,
the Channels consumer and tests each run loops of their own: one client per loop. The sync
client serves code running in threads (database steps, Celery tasks, health checks).
"""

from __future__ import annotations

import asyncio
import weakref
from functools import cache

import redis
import redis.asyncio
from django.conf import settings
from redis.commands.core import AsyncScript

SOCKET_TIMEOUT = 2.0
MAX_CONNECTIONS = 256  # per event loop: a few per open chat (limits, breakers, release)

_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
    weakref.WeakKeyDictionary()
)
_scripts: weakref.WeakKeyDictionary[redis.asyncio.Redis, dict[str, AsyncScript]] = (
    weakref.WeakKeyDictionary()
)


def redis_async() -> redis.asyncio.Redis:
    """The running loop's client (strings decoded), created on first use."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # A blocking pool: a burst beyond its size waits for a connection, not an error.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            decode_responses=True,
            max_connections=MAX_CONNECTIONS,
            timeout=SOCKET_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
        )
        client = redis.asyncio.Redis.from_pool(pool)  # closing the client closes its pool
        _async_clients[loop] = client
    return client


def redis_script(source: str) -> AsyncScript:
    """A Lua script on the running loop's client: EVALSHA, loaded again after a restart."""
    client = redis_async()
    scripts = _scripts.setdefault(client, {})
    if source not in scripts:
        scripts[source] = client.register_script(source)
    return scripts[source]


async def redis_async_close() -> None:
    """Close the running loop's client (at shutdown, and when a test's loop ends)."""
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def redis_sync() -> redis.Redis:
    """The process's client for code running in threads."""
    return _sync_client(settings.REDIS_URL)


@cache
def _sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
    )
