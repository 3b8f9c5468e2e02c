"""/readyz: /healthz's checks plus Celery beat's heartbeat and the reconciler's last run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.redis import redis_sync
from gateway.health import BEAT, KEY, RECONCILER, heartbeat_record
from gateway.tasks import beat_heartbeat_task
from usage.tasks import model_call_reconcile_stuck_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_heartbeats() -> None:
    redis_sync().delete(KEY + BEAT, KEY + RECONCILER)


def test_not_ready_until_beat_and_the_reconciler_have_run(client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == "never"
    assert response.json()["failing"] == ["beat", "reconciler"]


def test_ready_once_the_heartbeat_task_and_the_reconciler_ran(client) -> None:
    beat_heartbeat_task.apply()
    model_call_reconcile_stuck_task.apply()  # a successful run records itself (task_success)

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "pgvector": "ok",
        "redis": "ok",
        "beat": "ok",
        "reconciler": "ok",
    }


def test_a_heartbeat_older_than_three_intervals_is_stale(client, settings) -> None:
    long_ago = timezone.now() - timedelta(seconds=3 * settings.BEAT_HEARTBEAT_SECONDS + 5)
    heartbeat_record(BEAT, now=long_ago)
    heartbeat_record(RECONCILER)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["beat"]
    assert response.json()["checks"]["beat"] == "stale"


def test_healthz_does_not_wait_for_beat(client) -> None:
    assert client.get("/healthz").status_code == 200
