from __future__ import annotations

import contextlib

import redis
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.redis import redis_sync


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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when PostgreSQL, pgvector and Redis all answer; 503 naming the parts that do not."""
    checks = {"database": "down", "pgvector": "down", "redis": "down"}
    with contextlib.suppress(DatabaseError):
        checks["pgvector"] = "ok" if _vector_installed() else "missing"
        checks["database"] = "ok"
    with contextlib.suppress(redis.RedisError):
        checks["redis"] = "ok" if _check_redis() else "down"
    healthy = all(value == "ok" for value in checks.values())
    failing = [name for name, value in checks.items() if value != "ok"]
    body = {"status": "ok" if healthy else "unhealthy", "checks": checks, "failing": failing}
    return JsonResponse(body, status=200 if healthy else 503)
