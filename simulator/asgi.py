"""A thin wrapper over one ASGI HTTP connection: read the request, answer, notice the client leave.

Dropping a connection mid-response has no ASGI message. `run_simulator` serves the app with a
daphne server that advertises the `ABORT_EXTENSION` in the scope and closes the socket when it
receives that message. Under any other server `abort()` ends the body cleanly instead, which a
client still sees as a stream without its final chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

ABORT_EXTENSION = "switchboard.simulator.abort"
MAX_BODY_BYTES = 16 * 1024 * 1024

Message = dict[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON_HEADERS: Headers = [(b"content-type", b"application/json")]
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


class BodyTooLarge(Exception):
    pass


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


class Connection:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._disconnected: asyncio.Future[None] | None = None
        self.started = False

    async def read_request(self) -> HttpRequest | None:
        """The whole request, or None when the client left before sending all of it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge
            if not message.get("more_body", False):
                break
        # Only now is `receive` free for the watcher: its next message is the disconnect.
        self._disconnected = asyncio.ensure_future(self._watch())
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self._scope["headers"]
        }
        return HttpRequest(self._scope["method"], self._scope["path"], headers, b"".join(chunks))

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass

    @property
    def connected(self) -> bool:
        return self._disconnected is None or not self._disconnected.done()

    async def pause(self, seconds: float) -> bool:
        """Wait up to `seconds`, returning early (False) when the client goes away."""
        if self._disconnected is None or seconds <= 0:
            # Yield even when no time is due, so writes flush and a disconnect is noticed.
            await asyncio.sleep(0)
        else:
            await asyncio.wait({self._disconnected}, timeout=seconds)
        return self.connected

    async def wait_for_disconnect(self) -> None:
        if self._disconnected is not None:
            await asyncio.wait({self._disconnected})

    async def respond(self, status: int, body: bytes, headers: Headers = JSON_HEADERS) -> None:
        await self.start(status, [*headers, (b"content-length", str(len(body)).encode())])
        await self._send({"type": "http.response.body", "body": body})

    async def start(self, status: int, headers: Headers) -> None:
        self.started = True
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def write(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def finish(self) -> None:
        await self._send({"type": "http.response.body", "body": b""})

    async def abort(self) -> None:
        """Drop the connection without finishing the response (see the module docstring)."""
        if ABORT_EXTENSION in (self._scope.get("extensions") or {}):
            await self._send({"type": ABORT_EXTENSION})
        elif self.started:
            await self.finish()
        else:
            await self.respond(502, b"")

    async def close(self) -> None:
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._disconnected
