"""The usage tasks do their service's work, and beat runs the reconciler every minute."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.celery import app
from tests.usage.factories import ModelCallFactory
from usage.models import CallStatus
from usage.tasks import model_call_reconcile_stuck_task

pytestmark = pytest.mark.django_db


def test_reconcile_task_finalises_a_call_left_pending() -> None:
    call = ModelCallFactory(status=CallStatus.PENDING, output_tokens=0, finished_at=None)
    call.deadline_at = call.at - timedelta(minutes=5)
    call.save(update_fields=["deadline_at"])

    assert model_call_reconcile_stuck_task() == 1

    call.refresh_from_db()
    assert call.status == CallStatus.FAILED


def test_beat_runs_the_reconciler_every_minute() -> None:
    entries = [
        entry
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == model_call_reconcile_stuck_task.name
    ]

    assert len(entries) == 1
    assert entries[0]["schedule"] == 60.0
