"""Monthly FinOps reports: requested (by a person or by beat on the 1st), built by a Celery
task (pending -> running -> ready | failed, with progress), stored in media."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.errors import ApplicationError
from accounts.models import Organization, User
from usage.finops import (
    Period,
    finops_blocked_prompts,
    finops_breakdown,
    finops_daily,
    finops_tiers,
    finops_totals,
)
from usage.models import MonthlyReport, ReportStatus, UsageRecord
from usage.report_pdf import ReportContent, report_pdf
from usage.services.rollups import usage_daily_rollup

logger = logging.getLogger(__name__)

TOPS = {"members": "member", "end users": "end_user", "assistants": "assistant", "models": "model"}


_MONTH = re.compile(r"\d{4}-\d{2}")


class ReportMonthInvalid(ApplicationError):
    code = "invalid_month"


def month_parse(text: str) -> date:
    """`YYYY-MM` as the month's first day, or an error naming the field."""
    if _MONTH.fullmatch(text or ""):
        try:
            return date.fromisoformat(f"{text}-01")
        except ValueError:
            pass
    raise ReportMonthInvalid("month: use YYYY-MM, e.g. 2026-11", {"param": "month"})


def monthly_report_request(
    *, org: Organization, month: date, user: User | None, now: datetime | None = None
) -> MonthlyReport:
    """Ask for the month's report: a new or finished one goes (back) to pending and a build
    is enqueued on commit; one already pending or running is returned as it is."""
    this_month = (now or timezone.now()).date().replace(day=1)
    if month.day != 1 or month > this_month:
        raise ReportMonthInvalid(
            "month: a report covers a month that has begun", {"param": "month"}
        )
    with transaction.atomic():
        report, _ = MonthlyReport.objects.select_for_update().get_or_create(
            organization=org, month=month, defaults={"requested_by": user}
        )
        if report.status == ReportStatus.RUNNING and not _abandoned(report, now):
            return report  # a duplicate enqueue of a pending one is harmless: builds claim
        report.status, report.progress, report.error = ReportStatus.PENDING, 0, ""
        report.requested_by = user or report.requested_by
        report.save(update_fields=["status", "progress", "error", "requested_by"])
        transaction.on_commit(lambda: _enqueue_build(report.pk))
    return report


def _abandoned(report: MonthlyReport, now: datetime | None) -> bool:
    """Running for longer than a task may run: its worker died, so it may be asked again."""
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    started = report.started_at
    return started is None or started < (now or timezone.now()) - limit


def _enqueue_build(report_id: int) -> None:
    from usage.tasks import monthly_report_build_task  # noqa: PLC0415 - tasks import services

    monthly_report_build_task.delay(report_id)


def monthly_report_build(*, report_id: int, now: datetime | None = None) -> bool:
    """Build a pending report; False when it was not pending (another worker has it).

    Claimed with a conditional UPDATE pending -> running, so a duplicate task does nothing.
    A failure marks the report failed with a short message; it is not retried by itself.
    """
    claimed = MonthlyReport.objects.filter(pk=report_id, status=ReportStatus.PENDING).update(
        status=ReportStatus.RUNNING, progress=5, started_at=now or timezone.now()
    )
    if not claimed:
        return False
    report = MonthlyReport.objects.select_related("organization").get(pk=report_id)
    try:
        pdf = monthly_report_render(
            org=report.organization, month=report.month, now=now, report_id=report.pk
        )
        report.file.save(
            f"{report.organization.slug}-{report.month:%Y-%m}.pdf", ContentFile(pdf), save=False
        )
    except Exception as error:
        logger.exception("Monthly report %s failed", report_id)
        _set(
            report_id,
            status=ReportStatus.FAILED,
            error=f"{type(error).__name__}: could not build the report"[:300],
            finished_at=now or timezone.now(),
        )
        return True
    _set(
        report_id,
        status=ReportStatus.READY,
        progress=100,
        file=report.file.name,
        finished_at=now or timezone.now(),
    )
    return True


def monthly_report_render(
    *, org: Organization, month: date, now: datetime | None = None, report_id: int | None = None
) -> bytes:
    """The month's PDF from up-to-date rollups: the same code for the task and the command."""
    period = Period.month(month)
    usage_daily_rollup(org=org, days=period.days, now=now)
    _progress(report_id, 40)
    content = ReportContent(
        organization=org.name,
        month=period.first,
        totals=finops_totals(org=org, period=period),
        daily=finops_daily(org=org, period=period),
        tops={title: finops_breakdown(org=org, period=period, by=by) for title, by in TOPS.items()},
        tiers=finops_tiers(org=org, period=period),
        blocked_prompts=finops_blocked_prompts(org=org, period=period),
        benchmark_model=settings.FINOPS_BENCHMARK_MODEL,
    )
    _progress(report_id, 70)
    return report_pdf(content)


def monthly_reports_request_due(*, now: datetime | None = None) -> int:
    """Beat, on the 1st: request last month's report for every organisation that used
    something in it; returns how many were requested. Twice is safe (see the request)."""
    now = now or timezone.now()
    last_month = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    period = Period.month(last_month)
    requested = 0
    for org in Organization.objects.order_by("pk"):
        used = UsageRecord.objects.for_org(org).filter(at__gte=period.start, at__lt=period.end)
        if used.exists():
            monthly_report_request(org=org, month=last_month, user=None, now=now)
            requested += 1
    return requested


def _progress(report_id: int | None, percent: int) -> None:
    if report_id is not None:
        MonthlyReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(
            progress=percent
        )


def _set(report_id: int, **fields: object) -> None:
    MonthlyReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(**fields)
