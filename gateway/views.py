from __future__ import annotations

import contextlib
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.redis import redis_sync
from gateway.health import BEAT, RECONCILER, heartbeat_age


def home(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard")


def favicon(request: HttpRequest) -> HttpResponse:
    """The icon browsers ask for on pages without our layout (the admin, error pages)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def _vector_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        return cursor.fetchone() is not None


def _check_redis() -> bool:
    return bool(redis_sync().ping())


def _service_checks() -> dict[str, str]:
    checks = {"database": "down", "pgvector": "down", "redis": "down"}
    with contextlib.suppress(DatabaseError):
        checks["pgvector"] = "ok" if _vector_installed() else "missing"
        checks["database"] = "ok"
    with contextlib.suppress(redis.RedisError):
        checks["redis"] = "ok" if _check_redis() else "down"
    return checks


def _heartbeat_check(name: str, interval_seconds: int) -> str:
    """ok, stale (no run for three intervals) or never (no run in the last day)."""
    try:
        age = heartbeat_age(name)
    except redis.RedisError:
        return "unknown"
    if age is None:
        return "never"
    return "ok" if age <= timedelta(seconds=3 * interval_seconds) else "stale"


def _checks_response(checks: dict[str, str]) -> JsonResponse:
    healthy = all(value == "ok" for value in checks.values())
    failing = [name for name, value in checks.items() if value != "ok"]
    body = {"status": "ok" if healthy else "unhealthy", "checks": checks, "failing": failing}
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when PostgreSQL, pgvector and Redis all answer; 503 naming the parts that do not."""
    return _checks_response(_service_checks())


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """/healthz's checks, plus Celery beat's heartbeat and the reconciler's last run: 503
    naming what is down, stale or never ran."""
    checks = _service_checks()
    checks["beat"] = _heartbeat_check(BEAT, settings.BEAT_HEARTBEAT_SECONDS)
    checks["reconciler"] = _heartbeat_check(RECONCILER, settings.RECONCILER_INTERVAL_SECONDS)
    return _checks_response(checks)
