"""Staff admin for conversations and messages: view-only, and without their words.

Titles and message content are the customer's words, so no page here shows them; ids and
sizes are enough to follow a conversation.
"""

from __future__ import annotations

from typing import TypedDict

from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.http import HttpRequest
from django_stubs_ext import WithAnnotations

from accounts.admin import ReadOnlyAdmin
from chat.models import Conversation, Message


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin[Conversation]):
    list_display = ("id", "organization", "user", "assistant", "created_at", "updated_at")
    list_filter = ("assistant",)
    list_select_related = ("organization", "user", "assistant")
    search_fields = ("=id", "organization__slug", "user__email")
    date_hierarchy = "created_at"
    exclude = ("title",)


class _ContentLength(TypedDict):
    content_length: int


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin[Message]):
    list_display = (
        "id",
        "conversation_ref",
        "organization",
        "role",
        "length",
        "incomplete",
        "call",
    )
    list_filter = ("role", "incomplete")
    list_select_related = ("organization",)
    search_fields = ("=conversation__id", "organization__slug")
    date_hierarchy = "created_at"
    exclude = ("content", "conversation")
    readonly_fields = ("conversation_ref", "length")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).annotate(content_length=Length("content"))

    @admin.display(description="conversation", ordering="conversation_id")
    def conversation_ref(self, obj: Message) -> int:
        return obj.conversation_id

    @admin.display(description="characters", ordering="content_length")
    def length(self, obj: WithAnnotations[Message, _ContentLength]) -> int:
        return obj.content_length

    @admin.display(description="model call")
    def call(self, obj: Message) -> int | None:
        return obj.model_call_id
