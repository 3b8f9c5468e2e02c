"""Billing in the browser: a member's plan request, approved by staff in Django admin, ends
with the member on the new plan; the billing page with a budget cap near its limit."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Browser, Page, expect

from billing.budget import budget_cap_set, budget_month
from billing.models import BudgetSpend
from tests.accounts.factories import UserFactory
from tests.chat.conftest import Live
from tests.conftest import make_tenant
from tests.e2e.conftest import DESKTOP, screenshot, sign_in
from tests.e2e.test_first_use import console_errors


def test_a_members_request_approved_by_staff_in_admin_puts_the_member_on_the_new_plan(
    page: Page, browser: Browser, live: Live
) -> None:
    startup = make_tenant("Startup", plan="free")
    staff = UserFactory(is_staff=True, is_superuser=True)
    errors = console_errors(page)
    sign_in(page, live, startup.member)
    page.goto("/usage/")
    section = page.locator("#plan-requests")
    section.get_by_label("Plan").select_option("pro")
    section.get_by_role("button", name="Request plan").click()
    expect(section.locator("table tbody tr").first).to_contain_text("Pending")

    staff_context = browser.new_context(base_url=live.url, viewport=DESKTOP)
    staff_page = staff_context.new_page()
    sign_in(staff_page, live, staff)
    staff_page.goto("/admin/billing/planrequest/")
    staff_page.locator("#result_list input[name=_selected_action]").check()
    staff_page.locator("select[name=action]").select_option("approve")
    staff_page.get_by_role("button", name="Go").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("Approved 1 request(s).")
    staff_context.close()

    page.goto("/usage/")
    expect(page.locator("#plan-requests tbody tr").first).to_contain_text("Approved")
    page.goto("/app/billing/")
    expect(page.get_by_test_id("plan-name")).to_have_text("Pro")
    expect(page.get_by_test_id("payments-off")).to_be_visible()
    screenshot(page, "billing-after-approval")
    assert errors == []


def test_an_owner_sets_a_cap_and_sees_the_warning_when_it_is_nearly_used(
    page: Page, live: Live
) -> None:
    tenant = live.tenant
    errors = console_errors(page)
    sign_in(page, live, tenant.owner)
    page.goto("/app/billing/")

    caps = page.locator("#caps")
    caps.get_by_label("Cap on").select_option(f"member:{tenant.member.pk}")
    caps.get_by_label("Credits a month").fill("-3")
    caps.get_by_role("button", name="Save cap").click()
    expect(caps.locator(".errorlist")).to_contain_text("greater than or equal to 0")
    caps.get_by_label("Credits a month").fill("100")
    caps.get_by_role("button", name="Save cap").click()
    expect(caps.get_by_role("status")).to_have_text("Budget cap saved.")
    expect(caps.get_by_test_id("caps")).to_contain_text(f"Member {tenant.member.email}")

    budget_cap_set(org=tenant.org, actor=tenant.owner, monthly_credits=Decimal(200))
    BudgetSpend.objects.create(organization=tenant.org, credits=Decimal(170), month=budget_month())
    page.goto("/app/billing/")
    expect(page.get_by_test_id("billing-notice")).to_contain_text(
        "The organisation's monthly budget cap: 85% used"
    )
    screenshot(page, "billing-caps")
    assert errors == []
