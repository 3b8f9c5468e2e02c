"""The chat path's database access: native async statements for the hot writes, and ORM work
in a thread for everything else, without holding a connection across a stream.

Every chat opens its ModelCall and bills it with a few hand-written statements (built by the
modules that own the tables, `accounts.sql.Sql`), sent on psycopg's async connections from a
pool per event loop. Going through the ORM instead costs a thread hop and far more Python per
statement (see docs/benchmarks.md), which is most of what a chat costs the web process.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from accounts.sql import Sql

P = ParamSpec("P")
R = TypeVar("R")
# Django's own connection parameters that are not libpq's.
_DJANGO_ONLY = {"cursor_factory", "context", "prepare_threshold"}

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = (
    weakref.WeakKeyDictionary()
)


def db_step(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run ORM work `fn` in the request's worker thread, then hand its connection back.

    A chat stream stays open for seconds or minutes; holding a pooled connection all that
    time would cap concurrent streams at the pool size.
    """

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:  # a test's wrapping transaction stays open
                connection.close()

    return sync_to_async(run)


async def _configure(conn: AsyncConnection[Any]) -> None:
    await conn.execute("SET TIME ZONE 'UTC'")
    # The hot writes before a bill (the ModelCall opening, its progress, the PromptCheck) do
    # not wait for their WAL flush: the bill commits synchronously (usage_model_call_bill),
    # and flushing its WAL makes everything written before it durable too. A database crash
    # can lose the rows of calls not yet billed (at most wal_writer_delay, 200 ms, of them),
    # never a bill.
    await conn.execute("SET synchronous_commit TO off")


async def _pool() -> AsyncConnectionPool:
    """The running loop's pool, opened on first use with Django's connection settings."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if key not in _DJANGO_ONLY
        }
        params["autocommit"] = True  # reads need no transaction; writes open their own
        pool = AsyncConnectionPool(
            kwargs=params,
            min_size=1,
            max_size=settings.HOT_DB_POOL_SIZE,
            timeout=settings.DATABASES["default"]["OPTIONS"]["pool"]["timeout"],
            configure=_configure,
            open=False,
        )
        _pools[loop] = pool
        await pool.open()
    return pool


@asynccontextmanager
async def hot_transaction() -> AsyncIterator[AsyncConnection[Any]]:
    """A connection inside one short transaction, for statements that must commit together.

    (psycopg's pipeline mode would save round trips, but measured slower here: its
    bookkeeping costs more Python than a loopback round trip.)
    """
    async with (await _pool()).connection() as conn, conn.transaction():
        yield conn


async def hot_run(sql: Sql, conn: AsyncConnection[Any] | None = None) -> tuple[Any, ...] | None:
    """Run one statement (its own transaction unless `conn` is in one); its first row."""
    if conn is None:
        async with (await _pool()).connection() as own:
            return await hot_run(sql, own)
    cursor = await conn.execute(sql.text, sql.params)
    return await cursor.fetchone() if cursor.description else None


async def hot_rows(sql: Sql) -> list[tuple[Any, ...]]:
    """Run one statement in its own transaction; all its rows."""
    async with (await _pool()).connection() as conn:
        cursor = await conn.execute(sql.text, sql.params)
        return await cursor.fetchall() if cursor.description else []


async def hot_pool_close() -> None:
    """Close the running loop's pool (at shutdown, and when a test's loop ends)."""
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()
