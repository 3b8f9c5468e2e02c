"""The FinOps pages: figures for owners, admins and finance (credits; raw provider cost for
staff only, as everywhere), CSV export of each table, and the monthly PDF reports (owners and
finance), whose progress the page polls with htmx."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.errors import ApplicationError
from accounts.models import Organization
from accounts.tenancy import get_for_org
from accounts.types import OrgHttpRequest
from usage.finops import (
    REPORT_ROLES,
    VIEWER_ROLES,
    BreakdownRow,
    Figures,
    Period,
    cents,
    finops_breakdown,
    finops_daily,
    finops_totals,
    period_parse,
)
from usage.models import MonthlyReport, ReportStatus
from usage.services.reports import month_parse, monthly_report_request

TABLES = {  # slug -> title, in page order
    "member": "Members",
    "end_user": "End users",
    "assistant": "Assistants",
    "model": "Models",
    "task_type": "Task types",
    "api_key": "API keys",
}
REPORTS_PAGE = "usage/finops_reports.html"


@dataclass(frozen=True)
class Table:
    slug: str
    title: str
    rows: list[BreakdownRow]


def _org_for(request: OrgHttpRequest, roles: frozenset[str]) -> Organization:
    membership = request.membership
    if request.org is None or membership is None or membership.role not in roles:
        raise PermissionDenied(
            "FinOps figures are for the organisation's owners, admins and finance."
        )
    return request.org


def _period(request: OrgHttpRequest) -> Period:
    return period_parse(
        first=request.GET.get("from"), last=request.GET.get("to"), today=timezone.now().date()
    )


@login_required
@require_GET
def finops_page(request: OrgHttpRequest) -> HttpResponse:
    """Totals, the daily chart and the breakdown tables of a period (this month by default)."""
    org = _org_for(request, VIEWER_ROLES)
    try:
        period = _period(request)
    except ApplicationError as error:
        period, status, problem = Period.month(timezone.now().date()), 400, error.message
    else:
        status, problem = 200, ""
    context = {
        "period": period,
        "period_error": problem,
        "totals": finops_totals(org=org, period=period),
        "chart": _chart_data(org=org, period=period),
        "tables": [
            Table(slug, title, finops_breakdown(org=org, period=period, by=slug))
            for slug, title in TABLES.items()
        ],
        "show_raw": request.user.is_staff,
        "can_report": request.membership is not None and request.membership.role in REPORT_ROLES,
        "presets": _presets(),
    }
    return render(request, "usage/finops.html", context, status=status)


def _chart_data(*, org: Organization, period: Period) -> dict[str, list[Any]]:
    daily = finops_daily(org=org, period=period)
    return {
        "labels": [d.day.isoformat() for d in daily],
        "credits": [str(cents(d.figures.credits)) for d in daily],
        "savings": [str(cents(d.figures.savings_credits)) for d in daily],
    }


def _presets() -> list[tuple[str, Period]]:
    today = timezone.now().date()
    this_month = Period.month(today)
    last_month = Period.month(this_month.first.replace(day=1) - timedelta(days=1))
    last_30 = Period(today - timedelta(days=29), today)
    return [("This month", this_month), ("Last month", last_month), ("Last 30 days", last_30)]


@login_required
@require_GET
def finops_export(request: OrgHttpRequest, table: str) -> HttpResponse:
    """One table of the page (or `daily`) as CSV, for the same period."""
    org = _org_for(request, VIEWER_ROLES)
    if table not in TABLES and table != "daily":
        raise Http404("No such table.")
    try:
        period = _period(request)
    except ApplicationError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain")
    show_raw = request.user.is_staff
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"finops-{org.slug}-{table}-{period.first}-{period.last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([_first_column(table), *_figure_header(show_raw)])
    if table == "daily":
        rows = [(d.day.isoformat(), d.figures) for d in finops_daily(org=org, period=period)]
    else:
        rows = [(r.label, r.figures) for r in finops_breakdown(org=org, period=period, by=table)]
    for label, figures in rows:
        writer.writerow([label, *_figure_cells(figures, show_raw)])
    return response


def _first_column(table: str) -> str:
    return "day" if table == "daily" else table


def _figure_header(show_raw: bool) -> list[str]:
    header = ["requests", "input_tokens", "output_tokens", "credits", "benchmark_credits"]
    header += ["savings_credits", "savings_rate"]
    return header + (["raw_cost_usd", "benchmark_cost_usd", "savings_usd"] if show_raw else [])


def _figure_cells(figures: Figures, show_raw: bool) -> list[str]:
    cells = [
        str(figures.requests),
        str(figures.input_tokens),
        str(figures.output_tokens),
        str(cents(figures.credits)),
        str(cents(figures.benchmark_credits)),
        str(cents(figures.savings_credits)),
        f"{figures.savings_rate:.4f}",
    ]
    if show_raw:
        cells += [
            str(cents(v)) for v in (figures.raw_cost, figures.benchmark_cost, figures.savings)
        ]
    return cells


@login_required
@require_http_methods(["GET", "POST"])
def finops_reports(request: OrgHttpRequest) -> HttpResponse:
    """The organisation's monthly reports; POST asks for one (built in the background)."""
    org = _org_for(request, REPORT_ROLES)
    status, notice, problem = 200, "", ""
    if request.method == "POST":
        try:
            month = month_parse(request.POST.get("month", ""))
            report = monthly_report_request(org=org, month=month, user=request.user)
        except ApplicationError as error:
            # htmx swaps only 2xx answers: the fragment says what was wrong.
            status, problem = (200 if request.htmx else 400), error.message
        else:
            notice = f"The {report.month:%B %Y} report is being made."
            if not request.htmx:
                return redirect("finops:reports")
    template = REPORTS_PAGE + ("#report-list" if request.htmx else "")
    return render(request, template, _reports_context(org, notice, problem), status=status)


def _reports_context(org: Organization, notice: str, problem: str) -> dict[str, Any]:
    reports = list(MonthlyReport.objects.for_org(org).order_by("-month"))
    busy = any(r.status in (ReportStatus.PENDING, ReportStatus.RUNNING) for r in reports)
    today = timezone.now().date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return {
        "reports": reports,
        "busy": busy,
        "notice": notice,
        "problem": problem,
        "default_month": f"{last_month:%Y-%m}",
        "max_month": f"{today:%Y-%m}",
    }


@login_required
@require_GET
def finops_report_download(request: OrgHttpRequest, report_id: int) -> FileResponse:
    """A ready report's PDF, to its own organisation only (another's is a 404)."""
    org = _org_for(request, REPORT_ROLES)
    report: MonthlyReport = get_for_org(MonthlyReport.objects.all(), org=org, pk=report_id)
    if report.status != ReportStatus.READY or not report.file:
        raise Http404("This report is not ready.")
    name = f"switchboard-finops-{org.slug}-{report.month:%Y-%m}.pdf"
    return FileResponse(report.file.open("rb"), as_attachment=True, filename=name)
