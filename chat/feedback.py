"""Thumbs up or down on an answer, from the chat page or `/v1/feedback`: the user's vote goes
into the confidence matrix beside shadow audits (weighted below them)."""

from __future__ import annotations

from accounts.models import Organization, User
from chat.errors import NotFound
from routing.errors import InvalidRequest
from routing.learning import answer_feedback_record
from routing.models import AnswerFeedback, PromptCheck
from usage.models import CallStatus, ModelCall

COMPLETION_PREFIX = "chatcmpl-"
RATINGS = {"up": True, "down": False}


def answer_call_get(*, org: Organization, call_id: int, user: User | None = None) -> ModelCall:
    """One of `org`'s answered model calls (and `user`'s, when given), or NotFound (404)."""
    calls = ModelCall.objects.for_org(org).filter(pk=call_id, status=CallStatus.SUCCEEDED)
    call = calls.filter(user=user).first() if user is not None else calls.first()
    if call is None:
        raise NotFound(f"answer: no answer {call_id} in this organisation", {"param": "answer"})
    return call


def completion_call_get(*, org: Organization, completion_id: str) -> ModelCall:
    """The answered call behind a `/v1` completion id (`chatcmpl-<request id>`), or NotFound."""
    request_id = completion_id.removeprefix(COMPLETION_PREFIX)
    call = (
        ModelCall.objects.for_org(org)
        .filter(request_id=request_id, status=CallStatus.SUCCEEDED)
        .order_by("-attempt")
        .first()
    )
    if not request_id or call is None:
        raise NotFound(
            f"completion_id: no completion '{completion_id}' in this organisation",
            {"param": "completion_id"},
        )
    return call


def rating_parse(value: object) -> bool:
    if value not in RATINGS:
        raise InvalidRequest("rating: use 'up' or 'down'", {"param": "rating"})
    return RATINGS[str(value)]


def answer_feedback_give(
    *, org: Organization, user: User | None, call: ModelCall, helpful: bool
) -> AnswerFeedback:
    """Record the vote on `org`'s answer, labelled with the task type and complexity its
    precheck found (the cell it feeds). One vote per answer: the latest counts."""
    complexity = (
        PromptCheck.objects.for_org(org)
        .filter(decision__request_id=call.request_id)
        .values_list("complexity", flat=True)
        .first()
    )
    return answer_feedback_record(
        org=org,
        user=user,
        model_call_id=call.pk,
        model_id=call.model_id,
        task_type=call.task_type,
        complexity=complexity or "medium",
        helpful=helpful,
    )
