"""Test settings: the real PostgreSQL, Valkey and channels-redis layer, with fast hashing."""

from gateway.settings.base import *  # noqa: F403
from gateway.settings.base import CACHES, CHANNEL_LAYERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES["default"]["KEY_PREFIX"] = "sb-test"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "sb-test:channels"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app folders without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
