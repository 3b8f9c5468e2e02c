import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

# Django must be set up before anything imports models (the Channels routing will).
django_asgi_app = get_asgi_application()

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.urls import path  # noqa: E402

from chat.consumers import ChatConsumer  # noqa: E402

BEARER_ONLY_PREFIX = "/v1/"


class BearerOnlyHandler(ASGIHandler):
    """Django without MIDDLEWARE, for `/v1`: its clients send an API key and no cookies.

    Sessions, CSRF, messages and the organisation switcher do nothing for them, and under
    ASGI each of Django's sync middlewares costs two thread hops per request.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        # What BaseHandler.load_middleware sets up, for an empty MIDDLEWARE.
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response_async)


bearer_only_app = BearerOnlyHandler()


async def http_app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    is_bearer_only = scope["path"].startswith(BEARER_ONLY_PREFIX)
    app = bearer_only_app if is_bearer_only else django_asgi_app
    await app(scope, receive, send)


websocket_urlpatterns = [
    path("ws/chat/new/", ChatConsumer.as_asgi(), name="ws-chat-new"),
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi(), name="ws-chat"),
]

application = ProtocolTypeRouter(
    {
        "http": http_app,
        # The session cookie authenticates; the Origin check stops other sites' pages from
        # opening a socket with it (WebSockets are not covered by CSRF protection).
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
