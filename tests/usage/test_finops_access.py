"""Who may see FinOps figures and reports, bad input, the report workflow and its tasks."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role, User
from gateway.celery import app
from routing.models import AIModel
from routing.selectors import benchmark_prices
from tests.accounts.factories import ApiKeyFactory, MembershipFactory
from tests.conftest import Tenant, bearer
from tests.usage.finops_traffic import MONTH, Traffic, call_bill
from usage.finops import Period, finops_totals
from usage.models import MonthlyReport, ReportStatus, UsageDaily
from usage.services.reports import (
    monthly_report_build,
    monthly_report_request,
    monthly_reports_request_due,
)
from usage.tasks import (
    monthly_report_build_task,
    monthly_reports_request_due_task,
    usage_daily_rollup_recent_task,
)

pytestmark = pytest.mark.django_db


def member_of(tenant: Tenant, role: str) -> User:
    user: User = MembershipFactory(organization=tenant.org, role=role).user
    return user


def session(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def spend(tenant: Tenant, at: datetime, end_user: str = "customer-1") -> None:
    traffic = Traffic(org=tenant.org, members=[tenant.owner], end_users=[end_user], keys=[None])
    traffic.calls = int(at.timestamp()) % 100_000
    call_bill(
        traffic,
        at=at,
        user=tenant.owner,
        end_user=end_user,
        model=AIModel.objects.get(slug="sim/economy"),
        family="generalist",
        task="chat",
        key=tenant.key,
    )


@pytest.fixture
def ready_report(tenant: Tenant, settings: Any, tmp_path: Path) -> MonthlyReport:
    settings.MEDIA_ROOT = tmp_path
    spend(tenant, datetime(2026, 3, 5, 12, tzinfo=UTC))
    report = monthly_report_request(org=tenant.org, month=MONTH, user=tenant.owner)
    monthly_report_build(report_id=report.pk)
    report.refresh_from_db()
    return report


@pytest.mark.parametrize(
    ("role", "page", "reports"),
    [
        (Role.OWNER, 200, 200),
        (Role.FINANCE, 200, 200),
        (Role.ADMIN, 200, 403),
        (Role.MEMBER, 403, 403),
    ],
)
def test_page_and_reports_by_role(tenant: Tenant, role: str, page: int, reports: int) -> None:
    client = session(member_of(tenant, role))

    assert client.get(reverse("finops:page")).status_code == page
    assert client.get(reverse("finops:export", args=["member"])).status_code == page
    assert client.get(reverse("finops:reports")).status_code == reports


def test_a_member_gets_403_on_the_download_and_the_api_and_finance_gets_the_file(
    tenant: Tenant, ready_report: MonthlyReport
) -> None:
    member = session(tenant.member)
    member_key = ApiKeyFactory(
        organization=tenant.org, user=tenant.member, secret="sb_m_0123456789"
    )
    url = reverse("finops:report-download", args=[ready_report.pk])

    assert member.get(url).status_code == 403
    assert member.get("/api/finops/summary").status_code == 403
    assert member.get("/api/finops/daily").status_code == 403
    as_key = APIClient().get("/api/finops/summary", HTTP_AUTHORIZATION="Bearer sb_m_0123456789")
    assert as_key.status_code == 403 and member_key.pk
    finance = session(member_of(tenant, Role.FINANCE)).get(url)
    assert finance.status_code == 200
    assert finance["Content-Type"] == "application/pdf"
    assert b"".join(finance.streaming_content).startswith(b"%PDF")


def test_an_owners_api_key_reads_the_summary(tenant: Tenant, api_client: APIClient) -> None:
    spend(tenant, datetime(2026, 3, 5, 12, tzinfo=UTC))

    response = api_client.get(
        "/api/finops/summary", {"from": "2026-03-01", "to": "2026-03-31"}, **bearer(tenant)
    )

    body = response.json()
    assert response.status_code == 200
    assert body["requests"] == 1 and body["from"] == "2026-03-01" and body["to"] == "2026-03-31"
    assert isinstance(body["credits"], float) and body["credits"] > 0


def test_the_other_tenant_sees_none_of_the_figures_and_gets_404_for_the_report(
    tenant: Tenant, other_tenant: Tenant, ready_report: MonthlyReport, api_client: APIClient
) -> None:
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    summary = api_client.get("/api/finops/summary", period, **bearer(other_tenant)).json()
    page = session(other_tenant.owner).get(reverse("finops:page"), period).content.decode()

    assert summary["requests"] == 0 and summary["credits"] == 0
    assert "customer-1" not in page and tenant.owner.email not in page
    download = reverse("finops:report-download", args=[ready_report.pk])
    assert session(other_tenant.owner).get(download).status_code == 404


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
        ({"to": "soon"}, "to"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(
    tenant: Tenant, query: dict[str, str], param: str
) -> None:
    client = session(tenant.owner)

    api = client.get("/api/finops/summary", query)
    page = client.get(reverse("finops:page"), query)
    export = client.get(reverse("finops:export", args=["daily"]), query)

    assert api.status_code == 400 and api.json()["error"]["param"] == param
    assert api.json()["error"]["message"].startswith(f"{param}:")
    assert page.status_code == 400 and f"{param}:" in page.content.decode()
    assert export.status_code == 400


def test_an_unknown_table_is_a_404(tenant: Tenant) -> None:
    assert session(tenant.owner).get("/app/finops/export/secrets.csv").status_code == 404


def test_the_default_period_is_this_month_and_today_is_live(tenant: Tenant) -> None:
    now = datetime.now(tz=UTC)
    spend(tenant, now)

    body = session(tenant.owner).get("/api/finops/summary").json()

    assert body["from"] == now.date().replace(day=1).isoformat()
    assert body["requests"] == 1  # nothing rolled up: today is read from the records
    assert not UsageDaily.objects.for_org(tenant.org).exists()


@pytest.mark.parametrize("month", ["2026-3", "March", "2026-00", ""])
def test_a_bad_report_month_is_refused_and_changes_nothing(tenant: Tenant, month: str) -> None:
    response = session(tenant.owner).post(reverse("finops:reports"), {"month": month})

    assert response.status_code == 400
    assert "month: use YYYY-MM" in response.content.decode()
    assert not MonthlyReport.objects.for_org(tenant.org).exists()


def test_a_report_for_a_month_not_begun_is_refused(tenant: Tenant) -> None:
    response = session(tenant.owner).post(reverse("finops:reports"), {"month": "2999-01"})

    assert response.status_code == 400
    assert "has begun" in response.content.decode()


def test_asking_for_a_report_enqueues_its_build_on_commit(
    tenant: Tenant, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        mock.patch.object(monthly_report_build_task, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = session(tenant.owner).post(
            reverse("finops:reports"), {"month": "2026-03"}, HTTP_HX_REQUEST="true"
        )

    report = MonthlyReport.objects.for_org(tenant.org).get()
    delay.assert_called_once_with(report.pk)
    assert report.status == ReportStatus.PENDING and report.month == MONTH
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="report-list"')
    assert 'hx-trigger="every 2s"' in html  # the list polls while the report is being made


def test_the_build_task_makes_the_pdf_and_the_list_stops_polling(
    tenant: Tenant, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    report = monthly_report_request(org=tenant.org, month=MONTH, user=tenant.owner)

    assert monthly_report_build_task(report.pk) is True

    report.refresh_from_db()
    assert report.status == ReportStatus.READY and report.finished_at is not None
    assert Path(report.file.path).read_bytes().startswith(b"%PDF")
    html = session(tenant.owner).get(reverse("finops:reports"), HTTP_HX_REQUEST="true")
    assert "every 2s" not in html.content.decode()
    assert "Download PDF" in html.content.decode()


def test_a_build_that_cannot_store_its_file_is_marked_failed(
    tenant: Tenant, settings: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker  # storing under a file fails, as a full disk would
    report = monthly_report_request(org=tenant.org, month=MONTH, user=tenant.owner)

    monthly_report_build(report_id=report.pk)

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error
    assert not report.file


def test_beat_requests_last_months_report_for_orgs_that_used_something(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    spend(tenant, datetime(2026, 3, 20, 9, tzinfo=UTC))
    with mock.patch.object(monthly_report_build_task, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            requested = monthly_reports_request_due(now=datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
        with django_capture_on_commit_callbacks(execute=True):
            monthly_reports_request_due(now=datetime(2026, 4, 1, 0, 30, tzinfo=UTC))

    assert requested == 1
    [report] = MonthlyReport.objects.filter(organization__in=[tenant.org, other_tenant.org])
    assert report.organization == tenant.org and report.month == date(2026, 3, 1)
    assert delay.call_count == 2  # asked twice: the second build's claim is a no-op if done


def test_beat_schedules_the_rollup_and_the_monthly_reports() -> None:
    tasks = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}

    assert tasks[usage_daily_rollup_recent_task.name]["schedule"] == 15 * 60.0
    crontab = tasks[monthly_reports_request_due_task.name]["schedule"]
    assert crontab.day_of_month == {1}


def test_the_rollup_task_builds_yesterday_and_leaves_today_live(tenant: Tenant) -> None:
    now = datetime.now(tz=UTC)
    spend(tenant, now.replace(hour=12, minute=0) - timedelta(days=1))
    spend(tenant, now)

    usage_daily_rollup_recent_task()

    days = set(UsageDaily.objects.for_org(tenant.org).values_list("day", flat=True))
    assert now.date() - timedelta(days=1) in days and now.date() not in days
    assert finops_totals(org=tenant.org, period=Period(now.date(), now.date())).requests == 1


def test_the_benchmark_model_is_a_setting(settings: Any) -> None:
    settings.FINOPS_BENCHMARK_MODEL = "openai/gpt-4.1"
    model = AIModel.objects.get(slug="openai/gpt-4.1")

    assert benchmark_prices() == (model.input_cost_per_mtok, model.output_cost_per_mtok)


def test_the_command_writes_the_report(tenant: Tenant, tmp_path: Path) -> None:
    spend(tenant, datetime(2026, 3, 5, 12, tzinfo=UTC))
    out = tmp_path / "march.pdf"

    call_command(
        "finops_report",
        "--org",
        tenant.org.slug,
        "--month",
        "2026-03",
        "--out",
        str(out),
        stderr=io.StringIO(),
    )

    assert out.read_bytes().startswith(b"%PDF")


def test_the_api_is_in_the_openapi_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO()
    )

    paths = yaml.safe_load(out.read_text())["paths"]
    summary = paths["/api/finops/summary"]["get"]
    assert {p["name"] for p in summary["parameters"]} == {"from", "to"}
    assert {"200", "400", "403"} <= set(summary["responses"])
    assert "/api/finops/daily" in paths


def test_a_report_left_running_by_a_dead_worker_can_be_asked_for_again(
    tenant: Tenant, settings: Any
) -> None:
    report = monthly_report_request(org=tenant.org, month=MONTH, user=tenant.owner)
    started = datetime(2026, 4, 2, 9, tzinfo=UTC)
    MonthlyReport.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, started_at=started
    )
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)

    soon = monthly_report_request(org=tenant.org, month=MONTH, user=tenant.owner, now=started)
    later = monthly_report_request(
        org=tenant.org, month=MONTH, user=tenant.owner, now=started + limit + timedelta(seconds=1)
    )

    assert soon.status == ReportStatus.RUNNING  # a live build is left alone
    assert later.status == ReportStatus.PENDING and later.pk == report.pk
