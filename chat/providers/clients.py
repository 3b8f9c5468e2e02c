"""What every adapter shares: pooled HTTP clients, keys, server-sent events and error mapping.

One `aiohttp.ClientSession` per provider (slug + api_base) and per event loop: connections
are pooled across requests to one provider, and never used from a second loop, which asyncio
forbids (tests start loops of their own). aiohttp rather than httpx: with its C HTTP parser a
provider call costs the web process about half the Python (docs/benchmarks.md).

Keys are read from the environment for every request and sent as a per-request header, so a
key is never stored on a client, a target or an error, and rotating one needs no restart.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from django.utils import timezone

from chat.providers.base import Adapter, ProviderError, ProviderTarget, Timeouts
from chat.providers.sse import ServerSentEvent, sse_decode

# Hundreds of concurrent streams per web process, each holding one connection while it runs.
MAX_CONNECTIONS = 256
KEEPALIVE_SECONDS = 30
_ERROR_BODY_BYTES = 16_384
# Only short identifiers from an error body (`model_not_found`) go into our messages: free text
# may quote the request or the key (OpenAI's 401 echoes part of it).
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,40}")

_clients: dict[tuple[asyncio.AbstractEventLoop, str, str], aiohttp.ClientSession] = {}

T = TypeVar("T")


def client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """`sock_read` bounds every read, so it is the between-chunks limit.

    It applies before the first token too: a provider silent for longer than
    `between_chunks` (headers included) times out even if `first_byte` is longer.
    """
    return aiohttp.ClientTimeout(
        total=None, connect=timeouts.connect, sock_read=timeouts.between_chunks
    )


def client_for(target: ProviderTarget) -> aiohttp.ClientSession:
    """The running loop's shared client for this provider, created on first use."""
    loop = asyncio.get_running_loop()
    key = (loop, target.provider, target.api_base)
    client = _clients.get(key)
    if client is None or client.closed:
        _forget_closed_loops()
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS, enable_cleanup_closed=True
        )
        client = aiohttp.ClientSession(connector=connector, timeout=client_timeout(Timeouts()))
        _clients[key] = client
    return client


async def aclose_all() -> None:
    """Close the running loop's clients (at shutdown, after a test).

    Clients of other loops that are still running stay: only their own loop may close them.
    """
    loop = asyncio.get_running_loop()
    _forget_closed_loops()
    mine = [key for key in _clients if key[0] is loop]
    for key in mine:
        await _clients.pop(key).close()


def _forget_closed_loops() -> None:
    # A closed loop's sockets are gone with it; keeping its clients would only leak them.
    for key in [key for key in _clients if key[0].is_closed()]:
        del _clients[key]


def provider_key(target: ProviderTarget) -> str | None:
    """The key from the target's environment variable, or None when it names none.

    Raises ProviderError(auth, permanent) naming the variable, never a value, when the
    variable is unset or empty.
    """
    if not target.key_env:
        return None
    key = os.environ.get(target.key_env, "").strip()
    if not key:
        raise ProviderError(
            f"{target.provider}: environment variable {target.key_env} is not set",
            kind="auth",
            permanent=True,
        )
    return key


def adapter_for(target: ProviderTarget) -> Adapter:
    """The adapter for the target's kind; an unknown kind is a permanent client error."""
    # Imported here because the adapters import this module.
    from chat.providers.anthropic import AnthropicAdapter
    from chat.providers.openai_compatible import OpenAICompatibleAdapter

    if target.kind in ("openai_compatible", "simulator"):
        return OpenAICompatibleAdapter()
    if target.kind == "anthropic":
        return AnthropicAdapter()
    raise ProviderError(
        f"{target.provider}: unknown provider kind {target.kind!r}",
        kind="client_error",
        permanent=True,
    )


@asynccontextmanager
async def sse_events(
    target: ProviderTarget,
    url: str,
    *,
    headers: Mapping[str, str],
    body: dict[str, Any],
    timeouts: Timeouts,
    secret: str | None,
) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
    """POST `body` and give the server-sent events of a successful response.

    Any HTTP status >= 300 and any transport failure, including one raised while the caller
    reads the events, leaves as a ProviderError. `secret` is kept out of every message.
    """
    client = client_for(target)
    started = False
    try:
        async with client.post(
            url, headers=headers, json=body, timeout=client_timeout(timeouts)
        ) as response:
            if response.status >= 300:
                raise await _status_error(target, response, secret)
            started = True
            yield sse_decode(response.content.iter_any())
    except (aiohttp.ClientError, TimeoutError) as error:
        raise _transport_error(target, error, started=started) from error


async def _status_error(
    target: ProviderTarget, response: aiohttp.ClientResponse, secret: str | None
) -> ProviderError:
    """The ProviderError for an unsuccessful HTTP status."""
    status = response.status
    if status in (401, 403):
        # Never read this body: providers echo (part of) a rejected key.
        return ProviderError(
            f"{target.provider}: HTTP {status}, the API key was rejected",
            kind="auth",
            permanent=True,
            status=status,
        )
    label = f"{target.provider}: HTTP {status}{await _error_codes(response, secret)}"
    if status == 429:
        retry_after = retry_after_seconds(response.headers)
        return ProviderError(label, kind="rate_limited", status=status, retry_after=retry_after)
    if status == 408:
        return ProviderError(label, kind="timeout", status=status)
    if status >= 500:
        return ProviderError(label, kind="server_error", status=status)
    return ProviderError(label, kind="client_error", permanent=True, status=status)


async def _error_codes(response: aiohttp.ClientResponse, secret: str | None) -> str:
    """' (invalid_request_error, model_not_found)' from an OpenAI or Anthropic error body."""
    raw = await response.content.read(_ERROR_BODY_BYTES)
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(error, dict):
        return ""
    codes = [error.get("type"), error.get("code")]
    safe = [
        code
        for code in codes
        if isinstance(code, str) and _IDENTIFIER.fullmatch(code) and not (secret and secret in code)
    ]
    return f" ({', '.join(safe)})" if safe else ""


def _transport_error(
    target: ProviderTarget, error: aiohttp.ClientError | TimeoutError, *, started: bool
) -> ProviderError:
    """The ProviderError for a failed call; `started` once a 2xx response was received."""
    reason = f"{type(error).__name__}: {error}"[:200]
    if isinstance(error, aiohttp.ClientConnectorError):
        return ProviderError(f"{target.provider}: cannot connect ({reason})", kind="connection")
    if isinstance(error, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
        return ProviderError(f"{target.provider}: timed out ({reason})", kind="timeout")
    if started or isinstance(error, aiohttp.ClientPayloadError):
        # The answer began and then broke off, or its bytes were not what they claimed to be.
        return ProviderError(
            f"{target.provider}: stream ended early ({reason})", kind="bad_response"
        )
    return ProviderError(f"{target.provider}: connection failed ({reason})", kind="connection")


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms."""
    millis = _finite(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _finite(value)
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC with no zone stated
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or timezone.now())).total_seconds()
    return max(0.0, seconds)


def _finite(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def json_event(target: ProviderTarget, data: str) -> dict[str, Any]:
    """One decoded stream event; anything but a JSON object is a bad_response."""
    try:
        event = json.loads(data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise ProviderError(f"{target.provider}: invalid JSON in the stream", kind="bad_response")
    return event


async def first_within(
    events: AsyncGenerator[T, None], seconds: float, target: ProviderTarget
) -> AsyncGenerator[T, None]:
    """`events`, failing with a timeout when the first one takes longer than `seconds`.

    The timeout covers only the wait for the first event (connecting, sending, the provider's
    time to first token), never a `yield`: a slow consumer is never cancelled by it.
    Close the result (`contextlib.aclosing`) to release its connection right away.
    """
    async with aclosing(events):
        try:
            async with asyncio.timeout(seconds):
                first = await anext(events)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ProviderError(
                f"{target.provider}: no first token within {seconds:g}s", kind="timeout"
            ) from None
        yield first
        async for event in events:
            yield event
