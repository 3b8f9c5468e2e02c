"""What a new user meets on the usage, dashboard, keys and chat pages, in headless Chromium."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from billing.models import PlanRequest
from tests.accounts.factories import UserFactory
from tests.billing.factories import PlanRequestFactory
from tests.chat.conftest import Live
from tests.conftest import make_tenant
from tests.e2e.conftest import VISIBLE_PACE, sign_in
from usage.models import ModelCall


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def collect(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", collect)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_second_request_for_the_same_plan_shows_the_error_in_the_form(
    page: Page, live: Live
) -> None:
    errors = console_errors(page)
    sign_in(page, live, live.tenant.member)
    page.goto("/usage/")
    section = page.locator("#plan-requests")

    for _ in range(2):
        section.get_by_role("button", name="Request plan").click()
        expect(section.locator("table tbody tr").first).to_contain_text("plan")

    expect(section.get_by_role("alert")).to_contain_text("already have a pending request")
    expect(page.locator("header.topbar")).to_be_visible()  # the page is still the whole page
    assert page.evaluate("getComputedStyle(document.body).margin") != "8px"  # still styled
    assert PlanRequest.objects.for_org(live.tenant.org).count() == 1
    assert errors == []


PROMPT = "Tell me something cheerful about the weather today, in a few paragraphs."
CODING = "Write a Python function that reverses a singly linked list in place."
PARTIAL = """() => {
  const body = document.querySelector("article.msg-assistant.streaming .msg-body");
  return body && body.textContent.trim().split(/\\s+/).length >= 4;
}"""


def styled(page: Page) -> None:
    """The page has our layout and stylesheet: not a bare fragment."""
    expect(page.locator("header.topbar")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).margin") != "8px"


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", "").split()[0])


def test_a_new_users_first_session_is_styled_quiet_and_agrees_with_the_api(
    page: Page, live: Live
) -> None:
    errors = console_errors(page)
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "grace@example.com")
    page.fill("input[name=password1]", "short")
    page.fill("input[name=password2]", "short")
    page.locator("form button[type=submit]").click()
    expect(page.locator("#id_password1 + ul.errorlist")).to_contain_text("too short")
    page.fill("input[name=password1]", "a-long-Passphrase-42")
    page.fill("input[name=password2]", "a-long-Passphrase-42")
    page.locator("form button[type=submit]").click()
    styled(page)

    page.get_by_role("link", name="Chat", exact=True).click()
    page.get_by_role("button", name="Send").click()  # nothing typed yet
    expect(page.locator("#chat-status")).to_have_text("Write a message first.")
    page.locator("#prompt").fill(PROMPT)
    expect(page.get_by_test_id("hint-credits")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#chat-status")).to_have_text("Answer complete.", timeout=30_000)
    page.locator("#prompt").fill(PROMPT + " And tomorrow?")
    page.keyboard.press("Enter")
    page.wait_for_function(PARTIAL)
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#thread")).to_contain_text("Partial answer")
    styled(page)

    page.get_by_role("link", name="Usage").click()
    section = page.locator("#plan-requests")
    for _ in range(2):
        section.get_by_role("button", name="Request plan").click()
        expect(section.locator("table tbody tr").first).to_contain_text("plan")
    expect(section.get_by_role("alert")).to_contain_text("already have a pending request")
    styled(page)
    used = number(page.get_by_test_id("credits-used").inner_text())
    left = number(page.get_by_test_id("credits-left").inner_text())

    page.get_by_role("link", name="Dashboard").click()
    styled(page)
    expect(page.get_by_test_id("recent-activity").locator("tbody tr")).to_have_count(2)
    api = page.request.get("/api/usage").json()
    assert Decimal(api["credits_used"]).quantize(Decimal("0.01")) == used
    assert Decimal(api["credits_left"]).quantize(Decimal("0.01")) == left
    assert number(page.get_by_test_id("credits-used").inner_text()) == used
    assert errors == []


def test_the_answer_label_is_one_and_says_why_another_assistant_answered(
    page: Page, live: Live
) -> None:
    free = make_tenant("Smallco", plan="free")
    sign_in(page, live, free.owner)
    page.goto("/chat/")

    page.locator("#prompt").fill(CODING)
    expect(page.get_by_test_id("hint-why")).to_contain_text("Coder is not in plan Free")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("route-why")).to_contain_text("Coder is not in plan Free")
    streamed = page.locator("article.msg-assistant .msg-meta").last.inner_text()
    expect(page.locator("#chat-status")).to_have_text("Answer complete.", timeout=30_000)
    call = ModelCall.objects.for_org(free.org).get()
    label = f"Generalist · {call.model.display_name}"
    assert streamed == label
    # The stored thread, swapped in after the answer, says the same as the stream did.
    expect(page.locator("article.msg-assistant .msg-meta").last).to_contain_text(label)


def test_an_answer_cut_by_its_length_limit_says_so(page: Page, live: Live) -> None:
    # The provider stops every answer after 8 tokens, as a model's output limit would.
    live.configure({"sim/economy": {**VISIBLE_PACE, "max_output_tokens": 8}})
    sign_in(page, live, live.tenant.owner)
    page.goto("/chat/")

    page.locator("#prompt").fill(PROMPT)
    page.keyboard.press("Enter")

    expect(page.locator("#chat-status")).to_have_text("The answer reached its length limit.")


@pytest.mark.parametrize(
    ("path", "column"),
    [
        ("/admin/routing/aimodel/", "Active"),
        ("/admin/routing/modelprovider/", "Status"),
        ("/admin/billing/planrequest/", "Status"),
        ("/admin/accounts/apikey/", "Revoked at"),
    ],
)
def test_staff_lists_show_their_state_column_without_scrolling_at_1366(
    page: Page, live: Live, path: str, column: str
) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    PlanRequestFactory(organization=live.tenant.org)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live, staff)

    page.goto(path)

    header = page.locator("#result_list thead th").filter(has_text=column)
    expect(header).to_be_visible()
    box = header.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_a_very_long_prompt_shows_its_size_and_cost_before_sending(page: Page, live: Live) -> None:
    sign_in(page, live, live.tenant.owner)
    page.goto("/chat/")

    text = ("Summarise this report. " + "word " * 10_000)[:50_000]
    page.locator("#prompt").fill(text)

    expect(page.get_by_test_id("hint-size")).to_contain_text("(50,000 characters)")
    expect(page.get_by_test_id("hint-size")).to_contain_text("about 12,")
    expect(page.get_by_test_id("hint-credits")).to_be_visible()


def test_a_new_key_comes_with_ready_examples_and_copy_buttons(page: Page, live: Live) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live, live.tenant.owner)
    page.goto("/app/keys/")

    page.fill("#key-name", "backend")
    page.get_by_role("button", name="Create key").click()

    secret = page.get_by_test_id("new-secret").inner_text()
    assert secret.startswith("sb_")
    expect(page.get_by_test_id("curl-example")).to_contain_text(f"Bearer {secret}")
    expect(page.get_by_test_id("curl-example")).to_contain_text("/v1/chat/completions")
    expect(page.get_by_test_id("sdk-example")).to_contain_text(f'api_key="{secret}"')
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
