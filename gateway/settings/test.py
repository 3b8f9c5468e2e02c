"""Test settings: the real PostgreSQL, Valkey and channels-redis layer, with fast hashing."""

import os
import tempfile
from pathlib import Path

from gateway.settings.base import *  # noqa: F403
from gateway.settings.base import CACHES, CHANNEL_LAYERS, REDIS_URL
from gateway.settings.env import env_str

# Tests get their own Redis database, flushed at the start of each session, so rate-limit
# counters and breaker state never leak between runs or into the dev server's data.
REDIS_URL = env_str("TEST_REDIS_URL", "") or REDIS_URL.rsplit("/", 1)[0] + "/15"
CACHES["default"]["LOCATION"] = REDIS_URL
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = REDIS_URL
CELERY_BROKER_URL = REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES["default"]["KEY_PREFIX"] = "sb-test"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "sb-test:channels"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app folders without collectstatic.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = True
# Tests change plans and catalogs between requests and expect the next request to see it;
# tests of the snapshots themselves turn them back on.
SNAPSHOT_TTL_SECONDS = 0.0

# A test session's metrics go to a directory of its own, which the live servers it starts
# inherit (tests that count samples start a server with a directory of their own).
if not env_str("SWITCHBOARD_TEST_METRICS_DIR", ""):
    os.environ["SWITCHBOARD_TEST_METRICS_DIR"] = tempfile.mkdtemp(prefix="sb-metrics-")
PROMETHEUS_MULTIPROC_DIR = os.environ["SWITCHBOARD_TEST_METRICS_DIR"]
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# The answer cache is opt-in (off by default); tests exercise it, per organisation.
SEMANTIC_CACHE_ENABLED = True
