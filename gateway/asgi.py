"""The ASGI application: OpenAI-compatible `/v1` (Starlette, `chat.v1`), every other HTTP path
(Django), and the browser chat's WebSockets (Channels)."""

import gc
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

# Django must be set up before anything imports models (the chat modules do).
django_asgi_app = get_asgi_application()

from asgiref.typing import (  # noqa: E402
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPScope,
    LifespanScope,
)
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from accounts.redis import redis_async_close  # noqa: E402
from accounts.request_context import request_context_open  # noqa: E402
from chat import v1  # noqa: E402
from chat.consumers import ChatConsumer  # noqa: E402
from chat.db import hot_pool_close  # noqa: E402
from chat.providers.clients import aclose_all  # noqa: E402
from routing.precheck.pipeline import precheck_warm_up  # noqa: E402

V1_PREFIX = "/v1/"


async def http_app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Every HTTP request gets a request id at the edge (a sane incoming X-Request-Id, else a
    new one), carried by its log lines and records and returned as X-Request-Id."""
    context = request_context_open(_header(scope, b"x-request-id"))

    async def send_with_id(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
            headers.append((b"x-request-id", context.request_id.encode()))
            message = {**message, "headers": headers}
        await send(message)

    app = v1.app if scope["path"].startswith(V1_PREFIX) else django_asgi_app
    await app(scope, receive, send_with_id)  # type: ignore[arg-type]


def _header(scope: HTTPScope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def lifespan_app(
    scope: LifespanScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """Start-up needs nothing (pools open on first use); shutdown closes them."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await aclose_all()
            await hot_pool_close()
            await redis_async_close()
            await send({"type": "lifespan.shutdown.complete"})
            return


websocket_urlpatterns = [
    path("ws/chat/new/", ChatConsumer.as_asgi(), name="ws-chat-new"),
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi(), name="ws-chat"),
]

precheck_warm_up()

# Start-up leaves tens of thousands of long-lived objects (Django, the apps, the classifier)
# and every request allocates many short-lived ones: keep the first out of the garbage
# collector's passes and run its young collections less often (both the latency and the
# throughput of `make bench-peer` improved with it).
gc.freeze()
gc.set_threshold(20_000, 50, 100)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "lifespan": lifespan_app,
        # The session cookie authenticates; the Origin check stops other sites' pages from
        # opening a socket with it (WebSockets are not covered by CSRF protection).
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
