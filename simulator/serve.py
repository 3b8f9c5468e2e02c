"""Serve the simulator with daphne, adding the one thing ASGI lacks: dropping a connection.

Importing this module installs Twisted's asyncio reactor (daphne does it on import), so only
the command that serves the simulator imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daphne.server import Server

from simulator.asgi import ABORT_EXTENSION, Message, Scope


class _AbortingServer(Server):
    def create_application(self, protocol: Any, scope: Scope) -> Any:
        scope["extensions"] = {**(scope.get("extensions") or {}), ABORT_EXTENSION: {}}
        return super().create_application(protocol, scope)

    async def handle_reply(self, protocol: Any, message: Message) -> None:
        if message["type"] == ABORT_EXTENSION:
            # Close the socket after what was already written, without the final chunk.
            protocol.loseConnection()
            return
        await super().handle_reply(protocol, message)


def endpoint(host: str, port: int) -> str:
    """Twisted's endpoint string; colons in an IPv6 address must be escaped."""
    interface = host.replace(":", "\\:")
    return f"tcp:port={port}:interface={interface}"


def serve(app: Any, *, host: str, port: int, ready: Callable[[], None]) -> None:
    """Run until SIGINT/SIGTERM; `ready` is called once the server is about to accept."""
    server = _AbortingServer(
        app,
        endpoints=[endpoint(host, port)],
        ready_callable=ready,
        verbosity=0,
        # A hung request waits for its client; after the client leaves, give the app a moment.
        application_close_timeout=5,
    )
    server.run()
