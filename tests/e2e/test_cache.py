"""A cached answer in the browser: marked as such, with a way to ask again fresh, and never
shown to another organisation."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.chat.conftest import Live
from tests.conftest import make_tenant
from tests.e2e.conftest import screenshot, sign_in
from usage.models import CallStatus, ModelCall

QUESTION = "How do I reverse a string in Python?"


def answers(page: Page) -> int:
    return page.locator("#thread article.msg-assistant").count()


def wait_answered(page: Page, count: int) -> None:
    """`count` answers in the thread, the last one finished and the thread refreshed."""
    expect(page.locator("#thread article.msg-assistant:not(.streaming)")).to_have_count(count)
    expect(page.locator("#chat-status")).to_contain_text("Answer complete")
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()


def ask(page: Page, text: str) -> None:
    page.goto("/chat/")
    page.locator("#prompt").click()
    page.locator("#prompt").fill(text)
    page.keyboard.press("Enter")
    wait_answered(page, 1)


def test_a_repeated_question_is_answered_from_the_cache_and_can_be_asked_fresh(
    page: Page, live: Live
) -> None:
    live.tenant = make_tenant("Browsercorp", plan="team", cache=True)
    sign_in(page, live, live.tenant.owner)
    ask(page, QUESTION)
    expect(page.get_by_test_id("cached-answer")).to_have_count(0)

    ask(page, "how do I reverse a string in python")

    expect(page.get_by_test_id("cached-answer")).to_contain_text("Answered from the cache")
    expect(page.locator("#thread .msg-assistant .msg-meta")).to_contain_text("cached answer")
    screenshot(page, "chat-cached-answer")
    page.get_by_test_id("ask-fresh").click()
    wait_answered(page, 2)
    expect(page.get_by_test_id("cached-answer")).to_have_count(1)  # the fresh one is not
    statuses = list(
        ModelCall.objects.for_org(live.tenant.org).order_by("id").values_list("status", flat=True)
    )
    assert statuses == [CallStatus.SUCCEEDED, CallStatus.CACHED, CallStatus.SUCCEEDED]


def test_another_organisation_s_page_never_shows_the_cached_answer(page: Page, live: Live) -> None:
    first = make_tenant("Firstcorp", plan="team", cache=True)
    second = make_tenant("Secondcorp", plan="team", cache=True)
    sign_in(page, live, first.owner)
    ask(page, QUESTION)
    page.context.clear_cookies()

    sign_in(page, live, second.owner)
    ask(page, QUESTION)

    expect(page.get_by_test_id("cached-answer")).to_have_count(0)
    assert not ModelCall.objects.for_org(second.org).filter(status=CallStatus.CACHED).exists()
