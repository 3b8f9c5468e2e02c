"""The request id of the request being served, for every log line and record it leads to.

The edge (gateway/asgi.py) opens a `RequestContext` per HTTP request: the caller's
X-Request-Id when it is sane, else a fresh id. The chat views may replace it with the
client's Idempotency-Key, which then is the request's id everywhere (ModelCall, logs, the
response header). The context holds a mutable object, not the id itself, so a change made
inside a task or a thread that copied the context is seen by the edge when it answers.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass
class RequestContext:
    request_id: str
    incoming: bool = False  # the caller sent it: a second request with it is a replay


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_sane(value: str | None) -> bool:
    return value is not None and REQUEST_ID.match(value) is not None


def request_context_open(incoming: str | None) -> RequestContext:
    """Start a request's context: the incoming id if sane, else a new one."""
    sane = incoming is not None and request_id_sane(incoming)
    context = RequestContext(incoming if sane and incoming else request_id_new(), incoming=sane)
    _current.set(context)
    return context


def request_context_current() -> RequestContext | None:
    return _current.get()


def request_id_current() -> str | None:
    context = _current.get()
    return context.request_id if context else None


def request_id_bind(request_id: str) -> None:
    """Make `request_id` the current request's id (opening a context where none is, as in a
    WebSocket message or a Celery task)."""
    context = _current.get()
    if context is None:
        _current.set(RequestContext(request_id, incoming=True))
    else:
        context.request_id, context.incoming = request_id, True


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record ("-" outside a request), for both log formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_current() or "-"
        return True
