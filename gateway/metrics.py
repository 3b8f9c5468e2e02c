"""`/metrics` for Prometheus: every process's samples (prometheus-client's multiprocess
files, accounts/metrics.py) added up, and the breakers' state read from Redis.

With METRICS_TOKEN set it asks for `Authorization: Bearer <token>`; unset, it answers
loopback clients only (a scraper on the same host, or a sidecar).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from routing.breakers import breaker_open_providers
from routing.models import ModelProvider


class BreakerCollector(Collector):
    """switchboard_breaker_open{provider}: 1 while the provider's breaker is in its cool-down."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "switchboard_breaker_open",
            "1 while the provider's circuit breaker is open",
            labels=["provider"],
        )
        try:
            opened = breaker_open_providers(now=timezone.now())
        except redis.RedisError:
            opened = {}  # /readyz reports Redis; a scrape still returns the counters
        slugs = set(ModelProvider.objects.values_list("slug", flat=True)) | set(opened)
        for slug in sorted(slugs):
            gauge.add_metric([slug], 1.0 if opened.get(slug) else 0.0)
        yield gauge


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        why = (
            "Send the METRICS_TOKEN as a bearer token."
            if settings.METRICS_TOKEN
            else (
                "Set METRICS_TOKEN to scrape from another host; without it only loopback is served."
            )
        )
        return HttpResponseForbidden(why, content_type="text/plain")
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(BreakerCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
