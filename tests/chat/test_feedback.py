"""Thumbs up or down on an answer: from the chat page and from `/v1/feedback` by completion
id; each feeds the answer's cell, and nobody can vote on another organisation's answers."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client

from routing.models import AIModel, AnswerFeedback, ModelProvider, ShadowAudit
from tests.chat.conftest import Live, make_tenant
from tests.chat.factories import ConversationFactory, MessageFactory
from tests.conftest import Tenant
from tests.routing.factories import PromptCheckFactory
from tests.usage.factories import ModelCallFactory

PROMPT = "Tell me something cheerful about the weather today."


def answer(tenant: Tenant):
    conversation = ConversationFactory(organization=tenant.org, user=tenant.member)
    MessageFactory(conversation=conversation, content=PROMPT)
    call = ModelCallFactory(
        organization=tenant.org,
        user=tenant.member,
        conversation=conversation,
        model=AIModel.objects.get(slug="sim/economy"),
        task_type="chat",
    )
    PromptCheckFactory(
        organization=tenant.org, complexity="high", decision={"request_id": call.request_id}
    )
    MessageFactory(
        conversation=conversation, role="assistant", content="Sunny spells.", model_call=call
    )
    return conversation, call


def vote(client: Client, call_id: int, rating: str, conversation_id: int):
    return client.post(
        f"/chat/answers/{call_id}/feedback/",
        {"rating": rating, "current": conversation_id},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="thread",
    )


@pytest.mark.django_db
def test_a_thumbs_down_on_the_chat_page_is_stored_with_its_cell_and_can_be_changed(
    client: Client, tenant: Tenant
) -> None:
    conversation, call = answer(tenant)
    client.force_login(tenant.member)

    down = vote(client, call.pk, "down", conversation.pk)
    stored = AnswerFeedback.objects.for_org(tenant.org).get()
    up = vote(client, call.pk, "up", conversation.pk)

    assert down.status_code == 200
    assert down.content.decode().lstrip().startswith('<div id="thread"')
    assert 'value="down" class="vote chosen"' in down.content.decode()
    assert (stored.helpful, stored.task_type, stored.complexity) == (False, "chat", "high")
    assert stored.model.slug == "sim/economy"
    assert up.status_code == 200
    assert AnswerFeedback.objects.for_org(tenant.org).get().helpful is True


@pytest.mark.django_db
def test_a_bad_rating_is_refused_and_changes_nothing(client: Client, tenant: Tenant) -> None:
    conversation, call = answer(tenant)
    client.force_login(tenant.member)

    response = vote(client, call.pk, "sideways", conversation.pk)

    assert response.status_code == 400
    assert "rating" in response.content.decode()
    assert not AnswerFeedback.objects.exists()


@pytest.mark.django_db
def test_another_organisations_answer_is_404_for_votes_and_better_answers(
    client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    conversation, call = answer(tenant)
    client.force_login(other_tenant.member)

    voted = vote(client, call.pk, "up", conversation.pk)
    better = client.post(f"/chat/answers/{call.pk}/better/")

    assert voted.status_code == 404 and better.status_code == 404
    assert not AnswerFeedback.objects.exists()


@pytest.mark.django_db
def test_the_thread_offers_a_better_answer_after_a_poor_audit(
    client: Client, tenant: Tenant, simulator_url: str
) -> None:
    ModelProvider.objects.filter(slug="simulator").update(api_base=f"{simulator_url}/v1")
    task_shaped = {"models": {"sim/frontier": {"quality": {"chat": 1.0}}}}
    assert httpx.put(f"{simulator_url}/_sim/config", json=task_shaped).status_code == 200
    conversation, call = answer(tenant)
    ShadowAudit.objects.create(
        organization=tenant.org,
        model_call=call,
        task_type="chat",
        economy_model=call.model,
        reference_model=AIModel.objects.get(slug="sim/frontier"),
        score=0.1,
        verdict="poor",
        reference_answer="A clearer, correct answer.",
    )
    client.force_login(tenant.member)

    page = client.get(f"/chat/{conversation.pk}/").content.decode()
    shown = client.post(
        f"/chat/answers/{call.pk}/better/", {"current": conversation.pk}, HTTP_HX_REQUEST="true"
    )

    assert "A better answer is available." in page
    assert shown.status_code == 200
    # the stronger model is asked again (its task-shaped prose), not the audit's stored answer
    assert "Key point:" in shown.content.decode()
    assert "A clearer, correct answer." not in shown.content.decode()
    assert "A better answer is available." not in shown.content.decode()
    httpx.put(f"{simulator_url}/_sim/config", json={})


def v1_feedback(live: Live, secret: str, **body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}"}
    return httpx.post(f"{live.url}/v1/feedback", json=body, headers=headers, timeout=10)


def completion(live: Live) -> str:
    payload = {"model": "auto", "messages": [{"role": "user", "content": PROMPT}]}
    response = httpx.post(
        f"{live.url}/v1/chat/completions", json=payload, headers=live.headers(), timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_v1_feedback_by_completion_id_records_the_vote_and_names_a_bad_field(live: Live) -> None:
    completion_id = completion(live)

    ok = v1_feedback(live, live.tenant.secret, completion_id=completion_id, rating="down")
    bad = v1_feedback(live, live.tenant.secret, completion_id=completion_id, rating="meh")
    missing = v1_feedback(live, live.tenant.secret, completion_id=completion_id)

    assert ok.status_code == 200, ok.text
    assert ok.json() == {"object": "feedback", "completion_id": completion_id, "rating": "down"}
    stored = AnswerFeedback.objects.for_org(live.tenant.org).get()
    assert stored.helpful is False and stored.model_call.request_id in completion_id
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "rating"
    assert missing.status_code == 400 and "rating" in missing.json()["error"]["message"]
    assert AnswerFeedback.objects.count() == 1


def test_v1_feedback_on_another_organisations_completion_is_404(live: Live) -> None:
    completion_id = completion(live)
    outsider = make_tenant("Outsider")

    response = v1_feedback(live, outsider.secret, completion_id=completion_id, rating="up")

    assert response.status_code == 404
    assert response.json()["error"]["param"] == "completion_id"
    assert not AnswerFeedback.objects.exists()
