"""Conversations and their messages: history for the provider, and what a chat appends."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from accounts.models import Organization, User
from accounts.tenancy import get_for_org
from chat.models import Conversation, Message, MessageRole
from chat.providers.base import ChatMessage
from routing.models import Assistant
from routing.precheck.classifier import estimate_tokens

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
    """The thread as shown: user and assistant turns, oldest first, with the answering model."""
    rows = Message.objects.for_org(org).filter(conversation=conversation)
    rows = rows.exclude(role=MessageRole.SYSTEM).select_related(
        "model_call__model", "model_call__usage"
    )
    return list(rows.order_by("created_at", "id"))


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
