"""Finance in headless Chromium: the FinOps page (figures, the Chart.js chart, sortable tables)
and a monthly report made, polled with htmx, downloaded and rendered to a picture."""

from __future__ import annotations

import pypdfium2
import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.accounts.factories import MembershipFactory
from tests.chat.conftest import Live
from tests.e2e.conftest import RESULTS, screenshot, sign_in
from tests.e2e.test_first_use import console_errors
from tests.usage.finops_traffic import MONTH, Traffic, money, month_generate, truth
from usage.finops import Period
from usage.models import MonthlyReport, ReportStatus
from usage.services.reports import monthly_report_build

PERIOD = Period.month(MONTH)
CREDITS_BLUE = (0x25, 0x63, 0xEB)
SAVINGS_GREEN = (0x16, 0xA3, 0x4A)


@pytest.fixture
def finance_month(live: Live) -> Traffic:
    second = MembershipFactory(organization=live.tenant.org, role=Role.MEMBER).user
    traffic = Traffic(
        org=live.tenant.org,
        members=[live.tenant.owner, live.tenant.member, second],
        end_users=["customer-ada", "customer-bo", ""],
        keys=[live.tenant.key, None],
    )
    month_generate(traffic, per_day=3)
    return traffic


def test_finance_reads_the_figures_and_sorts_a_table(
    page: Page, live: Live, finance_month: Traffic
) -> None:
    errors = console_errors(page)
    finance = MembershipFactory(organization=live.tenant.org, role=Role.FINANCE).user
    sign_in(page, live, finance)
    expected = truth(live.tenant.org, PERIOD)[None]

    page.goto("/app/")
    page.get_by_role("link", name="FinOps", exact=True).click()
    page.get_by_label("From").fill(PERIOD.first.isoformat())
    page.get_by_label("To").fill(PERIOD.last.isoformat())
    page.get_by_role("button", name="Show").click()

    expect(page.get_by_test_id("total-credits")).to_have_text(money(expected.credits))
    expect(page.get_by_test_id("total-savings")).to_have_text(money(expected.savings_credits))
    drawn = page.evaluate("document.getElementById('finops-chart').chart.data.datasets.length")
    points = page.evaluate("document.getElementById('finops-chart').chart.data.labels.length")
    assert (drawn, points) == (2, len(PERIOD.days))
    members = page.get_by_test_id("breakdown-member")
    members.get_by_role("button", name="Requests").click()
    counts = [
        int(c.replace(",", ""))
        for c in members.locator("tbody tr td:nth-child(2)").all_inner_texts()
    ]
    assert counts == sorted(counts, reverse=True) and len(counts) == 3
    members.get_by_role("button", name="Requests").click()
    counts = [
        int(c.replace(",", ""))
        for c in members.locator("tbody tr td:nth-child(2)").all_inner_texts()
    ]
    assert counts == sorted(counts)
    screenshot(page, "finops-page")
    assert errors == []


def test_finance_makes_a_report_watches_it_finish_and_downloads_it(
    page: Page, live: Live, finance_month: Traffic
) -> None:
    errors = console_errors(page)
    finance = MembershipFactory(organization=live.tenant.org, role=Role.FINANCE).user
    sign_in(page, live, finance)
    page.goto("/app/finops/")
    page.get_by_role("link", name="Monthly PDF reports").click()

    page.get_by_label("Month").fill(f"{MONTH:%Y-%m}")
    page.get_by_role("button", name="Make report").click()
    row = page.locator('tr[data-month="2026-03"]')
    expect(row).to_contain_text("Pending")
    # The Celery worker's part, done here so the test does not wait on a queue.
    report = MonthlyReport.objects.for_org(live.tenant.org).get(month=MONTH)
    assert monthly_report_build(report_id=report.pk)
    expect(row).to_contain_text("Ready")  # the list polls every 2 s until then
    screenshot(page, "finops-reports")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download PDF").click()
    pdf_path = RESULTS / "finops-report.pdf"
    download_info.value.save_as(pdf_path)

    assert pdf_path.read_bytes().startswith(b"%PDF")
    report.refresh_from_db()
    assert report.status == ReportStatus.READY
    cover = pypdfium2.PdfDocument(str(pdf_path))[0].render(scale=1.5).to_pil().convert("RGB")
    cover.save(RESULTS / "finops-report-cover.png")
    colours = {colour for _, colour in cover.getcolors(maxcolors=1 << 20) or []}
    assert CREDITS_BLUE in colours and SAVINGS_GREEN in colours  # both series are drawn
    assert errors == []
