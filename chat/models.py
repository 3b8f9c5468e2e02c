"""Conversations and their messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.tenancy import TenantModel


class Conversation(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    assistant = models.ForeignKey(
        "routing.Assistant", on_delete=models.SET_NULL, null=True, blank=True
    )
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "user", "-updated_at"])]

    def __str__(self) -> str:
        # Not the title: it is often the user's first prompt, and str() ends up in admin
        # pages and logs.
        return f"Conversation {self.pk}"


class MessageRole(models.TextChoices):
    SYSTEM = "system", "System"
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class Message(TenantModel):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    content = models.TextField()
    model_call = models.ForeignKey(
        "usage.ModelCall", on_delete=models.SET_NULL, null=True, blank=True
    )
    incomplete = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role} in {self.conversation_id}"
