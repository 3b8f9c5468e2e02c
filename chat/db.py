"""Sync ORM work from async code without holding a database connection across a stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

P = ParamSpec("P")
R = TypeVar("R")


def db_step(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run `fn` in the request's worker thread, then hand its connection back to the pool.

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
