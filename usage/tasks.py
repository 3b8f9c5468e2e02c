"""Celery tasks of the usage app: each loads what it needs and calls one service."""

from __future__ import annotations

from celery import shared_task

from usage.services import model_call_reconcile_stuck


@shared_task
def model_call_reconcile_stuck_task() -> int:
    """Finalise model calls left open past their deadline (runs every minute from beat).

    Idempotency: (b) each stuck call is claimed with a conditional UPDATE on its status, so
    overlapping runs or a second run finalise and bill every call once.
    """
    return model_call_reconcile_stuck()
