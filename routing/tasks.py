"""Celery tasks of the routing app: each calls one service."""

from __future__ import annotations

from celery import shared_task

from routing.learning import confidence_matrix_rebuild


@shared_task
def confidence_matrix_rebuild_task() -> int:
    """Rebuild the confidence matrix from audits and feedback (beat, every 30 minutes).

    Idempotency: (c) each cell is recomputed from the same evidence under a row lock, and a
    change is logged only when the escalation state flips, so a rerun writes no new change.
    """
    return confidence_matrix_rebuild().cells
