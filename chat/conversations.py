"""Conversations and their messages: history for the provider, and what a chat appends."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from accounts.models import Organization, User
from accounts.sql import Sql
from accounts.tenancy import get_for_org
from chat.db import db_step
from chat.models import Conversation, Message, MessageRole
from chat.providers.base import ChatMessage
from chat.types import ChatRequest
from routing.models import AnswerFeedback, Assistant, AuditVerdict, ShadowAudit
from routing.precheck.classifier import estimate_tokens
from routing.types import AssistantChoice, RouteDecision

TITLE_LENGTH = 60


def conversation_get(*, org: Organization, user: User, conversation_id: int) -> Conversation:
    """The user's own conversation in `org`, or 404 (another member's is 404 too)."""
    return get_for_org(Conversation.objects.filter(user=user), org=org, pk=conversation_id)


def history_for(*, org: Organization, user: User, conversation_id: int | None) -> list[ChatMessage]:
    if conversation_id is None:
        return []
    conversation = conversation_get(org=org, user=user, conversation_id=conversation_id)
    rows = Message.objects.for_org(org).filter(conversation=conversation).order_by("created_at")
    return [ChatMessage(role=m.role, content=m.content) for m in rows if m.content]


def conversation_open(
    *,
    org: Organization,
    user: User,
    conversation_id: int | None,
    assistant_family: str,
    first_prompt: str,
) -> int:
    """The conversation this chat appends to: the given one, or a new one titled by the prompt."""
    if conversation_id is not None:
        return conversation_get(org=org, user=user, conversation_id=conversation_id).pk
    title = " ".join(first_prompt.split())[:TITLE_LENGTH]
    assistant = Assistant.objects.filter(family=assistant_family).first()
    return Conversation.objects.create(
        organization=org, user=user, assistant=assistant, title=title
    ).pk


_ANSWER_STORE = """
WITH answer AS (
    INSERT INTO chat_message (
        organization_id, conversation_id, role, content, model_call_id, incomplete, created_at
    ) VALUES (
        %(org_id)s, %(conversation_id)s, 'assistant', %(content)s, %(model_call_id)s,
        %(incomplete)s, now()
    ) RETURNING created_at
)
UPDATE chat_conversation SET updated_at = answer.created_at
FROM answer WHERE id = %(conversation_id)s AND organization_id = %(org_id)s
"""


def answer_store_sql(
    *, org_id: int, conversation_id: int, content: str, model_call_id: int, incomplete: bool
) -> Sql:
    """The assistant's answer in its conversation (billed in the same transaction)."""
    params = {"org_id": org_id, "conversation_id": conversation_id, "content": content}
    return Sql(_ANSWER_STORE, params | {"model_call_id": model_call_id, "incomplete": incomplete})


def message_add(
    *,
    org: Organization,
    conversation_id: int,
    role: str,
    content: str,
    model_call_id: int | None = None,
    incomplete: bool = False,
) -> Message:
    message = Message.objects.create(
        organization=org,
        conversation_id=conversation_id,
        role=role,
        content=content,
        model_call_id=model_call_id,
        incomplete=incomplete,
    )
    Conversation.objects.filter(pk=conversation_id).update(updated_at=message.created_at)
    return message


def system_prompt(assistant_family: str) -> str:
    prompt = Assistant.objects.filter(family=assistant_family).values_list(
        "system_prompt", flat=True
    )
    return prompt.first() or ""


async def chat_turn_open(
    *,
    request: ChatRequest,
    assistant: AssistantChoice,
    history: Sequence[ChatMessage],
    decision: RouteDecision,
    context_window: int,
) -> tuple[int | None, tuple[ChatMessage, ...]]:
    """(conversation id, messages for the provider) of this turn.

    Our own chat keeps the turn in its conversation (a new one for a first message) and
    speaks with the assistant's system prompt; `/v1` callers are stateless and bring theirs.
    """
    conversation_id, system = None, ""
    if request.product_chat:
        conversation_id, system = await db_step(_turn_store)(request, assistant.family)
    messages = trimmed(
        system=system,
        history=[*history, *request.messages[:-1]],
        latest=request.messages[-1],
        context_window=context_window,
        reserve=decision.output_tokens,
    )
    return conversation_id, messages


def _turn_store(request: ChatRequest, family: str) -> tuple[int, str]:
    conversation_id = conversation_open(
        org=request.org,
        user=request.user,
        conversation_id=request.conversation_id,
        assistant_family=family,
        first_prompt=request.prompt,
    )
    message_add(
        org=request.org, conversation_id=conversation_id, role="user", content=request.prompt
    )
    return conversation_id, system_prompt(family)


def trimmed(
    *,
    system: str,
    history: Sequence[ChatMessage],
    latest: ChatMessage,
    context_window: int,
    reserve: int,
) -> tuple[ChatMessage, ...]:
    """System prompt + the most recent history that fits + the latest message.

    Oldest turns go first; the system prompt and the latest message always stay.
    """
    head = (ChatMessage(role=MessageRole.SYSTEM, content=system),) if system else ()
    budget = context_window - reserve - estimate_tokens(latest.content) - estimate_tokens(system)
    kept: list[ChatMessage] = []
    for message in reversed(history):
        budget -= estimate_tokens(message.content)
        if budget < 0:
            break
        kept.append(message)
    return (*head, *reversed(kept), latest)


# The chat page: a user's conversations, one thread, rename and delete. Each goes through
# conversation_get (or filters on user and org), so another member's chats stay invisible.

TITLE_MAX = 200


def conversation_list(*, org: Organization, user: User) -> list[Conversation]:
    """The user's conversations in `org`, most recently active first."""
    rows = Conversation.objects.for_org(org).filter(user=user)
    return list(rows.select_related("assistant").order_by("-updated_at", "-id"))


def message_list(*, org: Organization, conversation: Conversation) -> list[Message]:
    """The thread as shown: user and assistant turns, oldest first, each answer with the
    assistant and model that wrote it (`assistant_name`: the label the stream showed)."""
    rows = Message.objects.for_org(org).filter(conversation=conversation)
    rows = rows.exclude(role=MessageRole.SYSTEM).select_related(
        "model_call__model", "model_call__usage"
    )
    messages = list(rows.order_by("created_at", "id"))
    names = dict(Assistant.objects.values_list("family", "name"))
    votes, poor = _learning_marks(org, [m.model_call_id for m in messages if m.model_call_id])
    for message in messages:
        family = message.model_call.assistant_family if message.model_call else ""
        message.assistant_name = names.get(family, "Assistant")  # type: ignore[attr-defined]
        message.vote = votes.get(message.model_call_id or 0)  # type: ignore[attr-defined]
        message.better_available = message.model_call_id in poor  # type: ignore[attr-defined]
    return messages


def _learning_marks(org: Organization, call_ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """Per answer: the user's vote ("up"/"down") and whether a poor audit offers a better one
    (not yet delivered)."""
    if not call_ids:
        return {}, set()
    votes = {
        call_id: "up" if helpful else "down"
        for call_id, helpful in AnswerFeedback.objects.for_org(org)
        .filter(model_call_id__in=call_ids)
        .values_list("model_call_id", "helpful")
    }
    poor = set(
        ShadowAudit.objects.for_org(org)
        .filter(model_call_id__in=call_ids, verdict=AuditVerdict.POOR)
        .filter(better_answer_requested_at__isnull=True)
        .values_list("model_call_id", flat=True)
    )
    return votes, poor


def conversation_rename(
    *, org: Organization, user: User, conversation_id: int, title: str
) -> Conversation:
    """Give the user's conversation a new title (whitespace folded); 404 for anyone else's."""
    conversation = conversation_get(org=org, user=user, conversation_id=conversation_id)
    title = " ".join(title.split())[:TITLE_MAX]
    if not title:
        raise ValidationError("Give the conversation a title.")
    conversation.title = title
    # Not `updated_at`: renaming should not move the conversation to the top of the list.
    Conversation.objects.filter(pk=conversation.pk).update(title=title)
    return conversation


def conversation_delete(*, org: Organization, user: User, conversation_id: int) -> None:
    """Delete the user's conversation and its messages; 404 for anyone else's.

    Model calls and usage keep their rows (their FK is SET_NULL): billing history stays.
    """
    conversation_get(org=org, user=user, conversation_id=conversation_id).delete()
