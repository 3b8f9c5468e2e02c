"""Celery tasks of the usage app: each loads what it needs and calls one service."""

from __future__ import annotations

from celery import shared_task

from usage.services import model_call_reconcile_stuck
from usage.services.reports import monthly_report_build, monthly_reports_request_due
from usage.services.rollups import usage_daily_rollup_recent


@shared_task
def model_call_reconcile_stuck_task() -> int:
    """Finalise model calls left open past their deadline (runs every minute from beat).

    Idempotency: (b) each stuck call is claimed with a conditional UPDATE on its status, so
    overlapping runs or a second run finalise and bill every call once.
    """
    return model_call_reconcile_stuck()


@shared_task
def usage_daily_rollup_recent_task() -> int:
    """Bring the recent days' FinOps rollups up to date (beat, every 15 minutes).

    Idempotency: (c) a day is rebuilt only when its record count changed, and a rebuild
    replaces the day's rows under an advisory lock, so a rerun gives the same rows.
    """
    return usage_daily_rollup_recent()


@shared_task
def monthly_report_build_task(report_id: int) -> bool:
    """Build one monthly FinOps PDF.

    Idempotency: (b) the report is claimed with a conditional UPDATE pending -> running.
    """
    return monthly_report_build(report_id=report_id)


@shared_task
def monthly_reports_request_due_task() -> int:
    """Request last month's report for every organisation that used something (beat, 1st).

    Idempotency: (c) a report already running is left alone; others rebuild to the same file.
    """
    return monthly_reports_request_due()
