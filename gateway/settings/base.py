"""Settings shared by every environment. Every environment variable is read here, strictly."""

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from gateway import embedded
from gateway.settings.env import (
    env_bool,
    env_choice,
    env_dotted,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_url,
)

# Django's generic classes (ModelAdmin, Field, ...) accept type arguments at runtime, as the
# annotations give them: `class PlanAdmin(admin.ModelAdmin[Plan])`.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def database_config() -> dj_database_url.DBConfig:
    url = env_str("DATABASE_URL", "") or embedded.postgres_url()
    try:
        config = dj_database_url.parse(url)
    except ValueError:
        config = {}
    # The URL may hold a password, so the message names the variable but never echoes it.
    if config.get("ENGINE") != "django.db.backends.postgresql" or not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL is malformed: expected postgres://USER:PASSWORD@HOST:PORT/NAME"
        )
    config["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "") or None}
    # A connection pool per process (psycopg_pool): under ASGI every request runs its ORM
    # calls in its own thread, so persistent per-thread connections would pile up; the
    # pool caps them and saves a connect per request.
    config.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=1),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20, minimum=1),
        "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
    }
    return config


# The chat path's async connections (chat/db.py), a pool of their own per web process.
HOT_DB_POOL_SIZE = env_int("DB_POOL_MAX_SIZE", 20, minimum=1)


def redis_url() -> str:
    url = env_str("REDIS_URL", "") or embedded.redis_url()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL is malformed: expected redis://HOST:PORT/DB")
    return url


SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")
SIMULATOR_URL = env_url("SIMULATOR_URL", "http://127.0.0.1:8100/v1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # its templates, for FORM_RENDERER below
    "servestatic",  # its configuration checks; without it the middleware warns at start
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "channels",
    "accounts",
    "billing",
    "routing",
    "usage",
    "chat",
    "adminpanel",
    "simulator",
    "gateway",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.CurrentOrganizationMiddleware",
]

ROOT_URLCONF = "gateway.urls"
ASGI_APPLICATION = "gateway.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organization",
                "billing.context_processors.billing_notices",
            ],
        },
    },
]

# Forms render with the project's templates first (templates/django/forms/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url()
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sb",
    }
}
# channels-redis waits on BZPOPMIN for 5 s at a time, and redis-py 8's default socket
# timeout is also 5 s: without a longer read timeout an idle WebSocket's consumer dies with
# a redis TimeoutError (and the browser sees the connection drop).
CHANNEL_LAYER_SOCKET_TIMEOUT = env_int("CHANNEL_LAYER_SOCKET_TIMEOUT", 30, minimum=6)
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT}],
            "prefix": "sb:channels",
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TIMEZONE = "UTC"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "none", ("none", "optional", "mandatory")
)
ACCOUNT_ADAPTER = "billing.signup.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
EMAIL_BACKEND = env_dotted("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Switchboard <noreply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "precheck": env_rate("PRECHECK_RATE", "120/min"),
        "models": env_rate("MODELS_RATE", "60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "AI model routing: precheck, routing, chat and usage.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The async chat endpoints are not DRF views; this hook describes them.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chat.openapi.chat_paths_add",
    ],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", "") or BASE_DIR / ".data" / "media")
MEDIA_URL = "media/"
SERVESTATIC_USE_FINDERS = DEBUG


# The chat path: deadlines, provider timeouts, circuit breaker, catalog cache.
CHAT_DEADLINE_SECONDS = env_int("CHAT_DEADLINE_SECONDS", 120, minimum=1)
# A non-streaming answer comes back whole, so its client waits for all of it: a shorter limit.
CHAT_WHOLE_ANSWER_DEADLINE_SECONDS = env_int("CHAT_WHOLE_ANSWER_DEADLINE_SECONDS", 60, minimum=1)
PROVIDER_CONNECT_TIMEOUT = env_float("PROVIDER_CONNECT_TIMEOUT", 5.0, minimum=0.1)
PROVIDER_FIRST_BYTE_TIMEOUT = env_float("PROVIDER_FIRST_BYTE_TIMEOUT", 30.0, minimum=0.1)
PROVIDER_CHUNK_TIMEOUT = env_float("PROVIDER_CHUNK_TIMEOUT", 30.0, minimum=0.1)
BREAKER_FAILURE_THRESHOLD = env_int("BREAKER_FAILURE_THRESHOLD", 5, minimum=1)
BREAKER_COOLDOWN_SECONDS = env_float("BREAKER_COOLDOWN_SECONDS", 30.0, minimum=0.1)
BREAKER_TRIAL_SECONDS = env_float(
    "BREAKER_TRIAL_SECONDS", 30.0, minimum=0.1
)  # a half-open trial's lock
SNAPSHOT_TTL_SECONDS = env_float("SNAPSHOT_TTL_SECONDS", 5.0, minimum=0.0)
MODEL_CALL_DEADLINE_SECONDS = CHAT_DEADLINE_SECONDS
# Abuse signals: this many blocked prompts, or calls costing this many credits, per window.
ABUSE_WINDOW_SECONDS = env_int("ABUSE_WINDOW_SECONDS", 600, minimum=60)
ABUSE_BLOCKED_THRESHOLD = env_int("ABUSE_BLOCKED_THRESHOLD", 5, minimum=1)
ABUSE_HIGH_COST_CREDITS = env_int("ABUSE_HIGH_COST_CREDITS", 200, minimum=1)
ABUSE_HIGH_COST_THRESHOLD = env_int("ABUSE_HIGH_COST_THRESHOLD", 5, minimum=1)
# FinOps: savings are measured against this model's list prices; days the rollup re-checks.
FINOPS_BENCHMARK_MODEL = env_str("FINOPS_BENCHMARK_MODEL", "openai/gpt-4o")
FINOPS_ROLLUP_LOOKBACK_DAYS = env_int("FINOPS_ROLLUP_LOOKBACK_DAYS", 3, minimum=1)
# The learning loop: economy answers are re-asked of the reference model and scored by the
# judge (both on the reference model's provider); the matrix reads this many days of evidence.
SHADOW_AUDIT_REFERENCE_MODEL = env_str("SHADOW_AUDIT_REFERENCE_MODEL", "sim/frontier")
SHADOW_AUDIT_JUDGE_MODEL = env_str("SHADOW_AUDIT_JUDGE_MODEL", "sim/judge")
LEARNING_WINDOW_DAYS = env_int("LEARNING_WINDOW_DAYS", 14, minimum=1)
# Auto mode's bar: "relative" takes the cheapest model the evidence shows within 5% of the
# strongest candidate (the strongest until then) and explores cheaper models; "absolute" takes
# the cheapest whose estimate meets a fixed bar per complexity (routing/policy.py).
AUTO_QUALITY_BAR = env_choice("AUTO_QUALITY_BAR", "absolute", ("relative", "absolute"))

# Semantic cache (routing/cache/): exact then pgvector lookups per organisation and scope.
# Opt-in: a cached answer changes what a caller gets, and every miss costs the request a
# lookup and a store (docs/benchmarks.md), so an operator turns it on.
SEMANTIC_CACHE_ENABLED = env_bool("SEMANTIC_CACHE_ENABLED", False)
SEMANTIC_CACHE_THRESHOLD = env_float("SEMANTIC_CACHE_THRESHOLD", 0.85, minimum=0.5)
SEMANTIC_CACHE_GUARDS = env_bool("SEMANTIC_CACHE_GUARDS", True)
# Serve candidates under the threshold (down to the verifier's floor) where the second-stage
# verifier agrees: off by default, see docs/benchmarks.md (false hits on held-out pairs).
SEMANTIC_CACHE_VERIFIER = env_bool("SEMANTIC_CACHE_VERIFIER", False)
SEMANTIC_CACHE_TTL_SECONDS = env_int("SEMANTIC_CACHE_TTL_SECONDS", 7 * 86400, minimum=60)
SEMANTIC_CACHE_MAX_ENTRIES = env_int("SEMANTIC_CACHE_MAX_ENTRIES", 100_000, minimum=10)
# Later turns of a conversation are cached only when this is on (their scope holds the turns).
SEMANTIC_CACHE_CONVERSATIONS = env_bool("SEMANTIC_CACHE_CONVERSATIONS", False)
SEMANTIC_CACHE_EMBEDDER = env_choice(
    "SEMANTIC_CACHE_EMBEDDER", "wordllama", ("wordllama", "openai")
)
SEMANTIC_CACHE_EMBEDDINGS_URL = env_url("SEMANTIC_CACHE_EMBEDDINGS_URL", SIMULATOR_URL)
SEMANTIC_CACHE_EMBEDDINGS_MODEL = env_str(
    "SEMANTIC_CACHE_EMBEDDINGS_MODEL", "text-embedding-3-small"
)
SEMANTIC_CACHE_EMBEDDINGS_KEY_ENV = env_str("SEMANTIC_CACHE_EMBEDDINGS_KEY_ENV", "")
SEMANTIC_CACHE_EMBEDDINGS_TIMEOUT = env_float("SEMANTIC_CACHE_EMBEDDINGS_TIMEOUT", 2.0, minimum=0.1)

# Payments (optional): with no secret key, the billing page says payments are not configured
# and plan requests stay the way to upgrade. Plans name their Stripe price in the admin.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_url("STRIPE_API_BASE", "https://api.stripe.com")

DEMO_ORG_SLUG = "demo"
DEMO_USER_EMAIL = "demo@switchboard.local"

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
# Readable lines here; production.py switches the handler to one JSON object a line. Every
# record carries the request id (accounts/request_context.py).
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "accounts.request_context.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "()": "accounts.logs.EventFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "accounts.logs.JsonEventFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "aiohttp": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# Prometheus (accounts/metrics.py, served at /metrics): every process of this host writes its
# samples under one directory, which must be set before prometheus_client is imported.
# `make run` empties it at start; compose gives the web container a fresh tmpfs.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "") or str(
    embedded.data_dir() / "prometheus"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# With a token, /metrics asks for `Authorization: Bearer <token>`; without, loopback only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Readiness (/readyz): beat's heartbeat task runs this often; it and the reconciler (every
# 60 s) count as down when their last run is older than three intervals.
BEAT_HEARTBEAT_SECONDS = 30
RECONCILER_INTERVAL_SECONDS = 60
