import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

# Django must be set up before anything imports models (the Channels routing will).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from gateway.consumers import ChatConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/chat/new/", ChatConsumer.as_asgi(), name="ws-chat-new"),
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi(), name="ws-chat"),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The session cookie authenticates; the Origin check stops other sites' pages from
        # opening a socket with it (WebSockets are not covered by CSRF protection).
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
