"""The learning loop as a user meets it in Chromium: a thumbs down under a streamed answer,
and the better answer a poor shadow audit offers."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from routing.models import AIModel, AnswerFeedback, ShadowAudit
from tests.chat.conftest import Live
from tests.e2e.conftest import screenshot, sign_in
from usage.models import CallStatus, ModelCall

PROMPT = "What makes a good weekend plan for a family?"
BETTER = "Plan one shared outing, one lazy morning and one thing each child picks."


def test_vote_on_an_answer_then_take_the_better_answer_a_poor_audit_found(
    page: Page, live: Live
) -> None:
    sign_in(page, live, live.tenant.owner)
    page.goto("/chat/")
    page.locator("#prompt").fill(PROMPT)
    page.keyboard.press("Enter")

    down = page.locator("#thread article.msg-assistant").last.get_by_title("Not helpful")
    expect(down).to_be_visible(timeout=15_000)  # the thread refreshes once the answer is stored
    down.click()

    expect(page.locator("#thread .vote.chosen")).to_have_attribute("title", "Not helpful")
    vote = AnswerFeedback.objects.for_org(live.tenant.org).get()
    assert vote.helpful is False
    call = ModelCall.objects.for_org(live.tenant.org).get(status=CallStatus.SUCCEEDED)
    ShadowAudit.objects.create(
        organization=live.tenant.org,
        model_call=call,
        task_type=call.task_type or "chat",
        economy_model=call.model,
        reference_model=AIModel.objects.get(slug="sim/frontier"),
        score=0.2,
        verdict="poor",
        reference_answer=BETTER,
    )
    page.reload()
    expect(page.get_by_text("A better answer is available.")).to_be_visible()
    screenshot(page, "chat-better-answer")
    page.get_by_role("button", name="Show it").click()

    # the stronger model is asked again: a new answer, not the audit's stored one
    expect(page.locator("#thread article.msg-assistant")).to_have_count(2)
    expect(page.locator("#thread article.msg-assistant").last).not_to_contain_text(BETTER)
    expect(page.get_by_text("A better answer is available.")).to_have_count(0)
