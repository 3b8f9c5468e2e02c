from django.apps import AppConfig


class GatewayConfig(AppConfig):
    """The Django project. Installed only for its migration history: the conversations it
    once held now belong to the chat app (see chat/migrations/0001_initial.py)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "gateway"
