"""A month of metered traffic in two organisations: every figure of the rollups, the FinOps
page, the API, the CSV files and the PDF equals the sums over the records, to the cent, and
the other organisation's figures appear nowhere."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import Role, User
from routing.models import AIModel
from tests.accounts.factories import ApiKeyFactory, MembershipFactory
from tests.conftest import Tenant
from tests.usage.finops_traffic import (
    MONTH,
    Tables,
    Traffic,
    Truth,
    call_bill,
    money,
    month_generate,
    truth,
)
from usage.finops import Period
from usage.models import ModelCall, MonthlyReport, ReportStatus, UsageDaily, UsageDailyBuild
from usage.services.reports import monthly_report_build, monthly_report_request
from usage.services.rollups import usage_daily_rollup

pytestmark = pytest.mark.django_db

PERIOD = Period.month(MONTH)
LATE_DAY = MONTH.replace(day=10)
QUERY = {"from": PERIOD.first.isoformat(), "to": PERIOD.last.isoformat()}


@dataclass
class Month:
    acme: Tenant
    globex: Tenant
    finance: User
    globex_emails: list[str]
    globex_end_users: list[str]


def rollup_rows(tenant: Tenant) -> list[tuple[Any, ...]]:
    fields = [f.attname for f in UsageDaily._meta.concrete_fields if f.attname != "id"]
    return sorted(UsageDaily.objects.for_org(tenant.org).values_list(*fields), key=repr)


@pytest.fixture
def month(tenant: Tenant, other_tenant: Tenant, settings: Any, tmp_path: Any) -> Month:
    settings.MEDIA_ROOT = tmp_path
    finance = MembershipFactory(organization=tenant.org, role=Role.FINANCE).user
    second = MembershipFactory(organization=tenant.org, role=Role.MEMBER).user
    member_key = ApiKeyFactory(organization=tenant.org, user=tenant.member)
    acme = Traffic(
        org=tenant.org,
        members=[tenant.owner, tenant.member, second],
        end_users=["customer-ada", "customer-bo", "customer-cy", ""],
        keys=[tenant.key, member_key, None],
    )
    month_generate(acme)
    globex_end_users = ["globex-visitor-1", "globex-visitor-2"]
    globex = Traffic(
        org=other_tenant.org,
        members=[other_tenant.owner, other_tenant.member],
        end_users=globex_end_users,
        keys=[other_tenant.key],
    )
    month_generate(globex, per_day=6)
    emails = [other_tenant.owner.email, other_tenant.member.email]
    return Month(tenant, other_tenant, finance, emails, globex_end_users)


def test_rollup_is_idempotent_and_folds_in_a_late_call(month: Month) -> None:
    acme = month.acme
    first = usage_daily_rollup(org=acme.org, days=PERIOD.days)
    rows = rollup_rows(acme)
    again = usage_daily_rollup(org=acme.org, days=PERIOD.days)

    assert first == len(PERIOD.days)
    assert again == 0 and rollup_rows(acme) == rows
    # A call billed for a day already rolled up, after the rollup ran.
    late = Traffic(org=acme.org, members=[acme.owner], end_users=["late-lu"], keys=[None])
    late.calls = 10_000
    call_bill(
        late,
        at=datetime.combine(LATE_DAY, time(23, 59, 59), tzinfo=UTC),
        user=acme.owner,
        end_user="late-lu",
        model=AIModel.objects.get(slug="sim/standard"),
        family="coder",
        task="coding",
        key=None,
    )
    assert usage_daily_rollup(org=acme.org, days=PERIOD.days) == 1
    rebuilt = rollup_rows(acme)
    assert usage_daily_rollup(org=acme.org, days=PERIOD.days) == 0
    assert rollup_rows(acme) == rebuilt
    by_day = truth(acme.org, PERIOD, key=lambda r: r.at.date())
    for day in PERIOD.days:
        rows_of_day = UsageDaily.objects.for_org(acme.org).filter(day=day)
        assert sum(r.display_cost for r in rows_of_day) == by_day[day].credits
        assert sum(r.raw_cost for r in rows_of_day) == by_day[day].raw_cost
        assert sum(r.requests for r in rows_of_day) == by_day[day].requests
    assert UsageDailyBuild.objects.for_org(acme.org).get(day=LATE_DAY).records == (
        by_day[LATE_DAY].requests
    )
    assert "late-lu" in {r.end_user for r in UsageDaily.objects.for_org(acme.org)}


def _add_late_call(month: Month) -> None:
    late = Traffic(org=month.acme.org, members=[month.acme.member], end_users=[""], keys=[None])
    late.calls = 20_000
    call_bill(
        late,
        at=datetime.combine(LATE_DAY, time(23, 59, 58), tzinfo=UTC),
        user=month.acme.member,
        end_user="customer-ada",
        model=AIModel.objects.get(slug="sim/frontier"),
        family="writer",
        task="chat",
        key=None,
    )


def _everything_rolled_up(month: Month) -> None:
    """The rollup, a late call for a closed day, and the rollup again (twice)."""
    for tenant in (month.acme, month.globex):
        usage_daily_rollup(org=tenant.org, days=PERIOD.days)
    _add_late_call(month)
    for _ in range(2):
        usage_daily_rollup(org=month.acme.org, days=PERIOD.days)


def _percent(sums: Truth) -> Decimal:
    rate = sums.savings_credits / sums.benchmark_credits * 100
    return rate.quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")


def _total(month: Month) -> Truth:
    return truth(month.acme.org, PERIOD)[None]


def test_api_summary_and_daily_equal_the_records_to_the_cent(month: Month) -> None:
    _everything_rolled_up(month)
    client = Client()
    client.force_login(month.finance)
    expected = _total(month)

    summary = json.loads(client.get("/api/finops/summary", QUERY).content, parse_float=Decimal)
    daily = json.loads(client.get("/api/finops/daily", QUERY).content, parse_float=Decimal)

    assert summary["requests"] == expected.requests
    assert summary["input_tokens"] + summary["output_tokens"] == expected.tokens
    assert summary["credits"] == Decimal(money(expected.credits).replace(",", ""))
    assert summary["benchmark_credits"] == Decimal(
        money(expected.benchmark_credits).replace(",", "")
    )
    assert summary["savings_credits"] == Decimal(money(expected.savings_credits).replace(",", ""))
    assert summary["raw_cost"] is None and summary["savings"] is None  # staff only
    by_day = truth(month.acme.org, PERIOD, key=lambda r: r.at.date())
    assert [d["day"] for d in daily["days"]] == [d.isoformat() for d in PERIOD.days]
    for entry in daily["days"]:
        day = datetime.fromisoformat(entry["day"]).date()
        assert entry["credits"] == Decimal(money(by_day[day].credits).replace(",", ""))
        assert entry["requests"] == by_day[day].requests
    assert sum(d["requests"] for d in daily["days"]) == expected.requests


def test_staff_see_raw_cost_equal_to_the_records(month: Month) -> None:
    _everything_rolled_up(month)
    month.acme.owner.is_staff = True
    month.acme.owner.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(month.acme.owner)
    expected = _total(month)

    summary = json.loads(client.get("/api/finops/summary", QUERY).content, parse_float=Decimal)
    page = client.get(reverse("finops:page"), QUERY).content.decode()

    assert summary["raw_cost"] == Decimal(money(expected.raw_cost).replace(",", ""))
    assert summary["benchmark_cost"] == Decimal(money(expected.benchmark_cost).replace(",", ""))
    assert f"${money(expected.raw_cost)}" in page


BREAKDOWN_KEYS = {
    "member": lambda r: r.user.email,
    "end_user": lambda r: r.model_call.end_user or "(not sent)",
    "model": lambda r: r.model_call.model.display_name,
    "task_type": lambda r: r.model_call.task_type.replace("_", " "),
    "api_key": lambda r: (
        f"{r.model_call.api_key.name} ({r.model_call.api_key.prefix}…)"
        if r.model_call.api_key
        else "Browser chat (no key)"
    ),
}


def test_page_and_csv_equal_the_records_and_hide_the_other_org(month: Month) -> None:
    _everything_rolled_up(month)
    client = Client()
    client.force_login(month.finance)
    expected = _total(month)

    response = client.get(reverse("finops:page"), QUERY)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="total-credits">{money(expected.credits)}<' in html
    assert f'data-testid="total-benchmark">{money(expected.benchmark_credits)}<' in html
    assert f'data-testid="total-savings">{money(expected.savings_credits)}<' in html
    assert f'data-testid="savings-rate">{_percent(expected)}%<' in html
    assert "Provider cost" not in html  # raw cost is for staff
    tables = Tables(html).tables
    for slug, key in BREAKDOWN_KEYS.items():
        want = truth(month.acme.org, PERIOD, key=key)
        rows = {row[0]: row for row in tables[f"breakdown-{slug}"][1:]}
        assert set(rows) == set(want), slug
        for label, sums in want.items():
            assert rows[label][1] == f"{sums.requests:,}"
            assert rows[label][3] == money(sums.credits), (slug, label)
            assert rows[label][5] == money(sums.savings_credits), (slug, label)
        exported = client.get(reverse("finops:export", args=[slug]), QUERY)
        assert exported["Content-Type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(exported.content.decode())))
        assert {line[slug]: line["credits"] for line in lines} == {
            label: money(s.credits).replace(",", "") for label, s in want.items()
        }
        assert "raw_cost_usd" not in lines[0]
    daily_csv = client.get(reverse("finops:export", args=["daily"]), QUERY).content.decode()
    by_day = truth(month.acme.org, PERIOD, key=lambda r: r.at.date().isoformat())
    assert {line["day"]: line["credits"] for line in csv.DictReader(io.StringIO(daily_csv))} == {
        day: money(s.credits).replace(",", "") for day, s in by_day.items()
    }
    chart = json.loads(
        html.split('id="finops-chart-data" type="application/json">')[1].split("<")[0]
    )
    assert sum(Decimal(c) for c in chart["credits"]) == sum(
        Decimal(money(s.credits).replace(",", "")) for s in by_day.values()
    )
    for secret in [*month.globex_emails, *month.globex_end_users, month.globex.org.name]:
        assert secret not in html and secret not in daily_csv


def test_the_pdf_report_equals_the_records_and_hides_the_other_org(month: Month) -> None:
    _everything_rolled_up(month)
    report = monthly_report_request(org=month.acme.org, month=MONTH, user=month.finance)
    assert monthly_report_build(report_id=report.pk) is True
    assert monthly_report_build(report_id=report.pk) is False  # claimed once
    report.refresh_from_db()
    expected = _total(month)

    assert report.status == ReportStatus.READY and report.progress == 100
    client = Client()
    client.force_login(month.finance)
    download = client.get(reverse("finops:report-download", args=[report.pk]))
    assert download.status_code == 200
    pdf = b"".join(download.streaming_content)
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())  # cells, one line
    assert month.acme.org.name in text and "March 2026" in text
    assert f"Spend (credits) {money(expected.credits)}" in text
    assert f"Savings vs benchmark (credits) {money(expected.savings_credits)}" in text
    assert f"Requests {expected.requests:,}" in text
    assert f"Savings rate {_percent(expected)}%" in text
    for label, sums in truth(month.acme.org, PERIOD, key=BREAKDOWN_KEYS["member"]).items():
        row = f"{label} {sums.requests:,} {money(sums.credits)} {money(sums.savings_credits)}"
        assert row in text
    fallbacks = sum(1 for _ in ModelCall.objects.for_org(month.acme.org).filter(attempt=2))
    assert fallbacks and f"Answered by a fallback model {fallbacks:,}" in text
    summary = json.loads(client.get("/api/finops/summary", QUERY).content, parse_float=Decimal)
    assert money(summary["credits"]) in text  # the PDF's headline is the API's number
    for secret in [*month.globex_emails, *month.globex_end_users, month.globex.org.name]:
        assert secret not in text
    other = Client()
    other.force_login(month.globex.owner)
    assert other.get(reverse("finops:report-download", args=[report.pk])).status_code == 404
    assert MonthlyReport.objects.for_org(month.globex.org).count() == 0
