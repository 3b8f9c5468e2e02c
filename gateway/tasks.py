"""The project's own periodic task: beat's heartbeat for the readiness view."""

from __future__ import annotations

from celery import shared_task

from gateway.health import BEAT, heartbeat_record


@shared_task
def beat_heartbeat_task() -> None:
    """Beat schedules it and a worker runs it: a fresh heartbeat means both are alive.

    Idempotency: it only overwrites one timestamp.
    """
    heartbeat_record(BEAT)
