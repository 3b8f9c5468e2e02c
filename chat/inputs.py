"""What the precheck and routing read for one chat, built in one place for the send and for
its previews (the chat page's hint and `POST /api/ai/precheck`), so a preview decides exactly
as the send will: the same catalog and plan snapshots, fresh credits, the providers' breakers
and the conversation's history."""

from __future__ import annotations

from dataclasses import dataclass, replace

from billing.selectors import credit_balance
from chat import conversations
from chat.providers.base import ChatMessage
from chat.providers.breaker import BreakerView, breaker_view
from chat.snapshots import TenantSnapshot, catalog_snapshot, tenant_snapshot_get
from chat.types import ChatRequest
from routing.precheck.classifier import estimate_tokens
from routing.types import PrecheckInputs


@dataclass(frozen=True)
class ChatInputs:
    precheck: PrecheckInputs
    history: tuple[ChatMessage, ...]  # the conversation so far, oldest first
    breakers: BreakerView


def chat_inputs(request: ChatRequest, *, tenant: TenantSnapshot | None = None) -> ChatInputs:
    """Everything routing reads for `request` (sync: run it in a database step)."""
    tenant = tenant or tenant_snapshot_get(org=request.org, user=request.user)
    history = tuple(
        conversations.history_for(
            org=request.org, user=request.user, conversation_id=request.conversation_id
        )
    )
    context = [*history, *request.messages[:-1]]
    breakers = breaker_view()
    precheck = PrecheckInputs(
        prompt=request.prompt,
        entitlement=replace(tenant.entitlement, credits_left=credit_balance(org=request.org)),
        catalog=catalog_snapshot(),
        rules=tenant.rules,
        context_tokens=sum(estimate_tokens(m.content) for m in context),
        assistant=request.assistant,
        mode=request.mode,
        model=request.model,
        has_images=request.has_images,
        down_providers=breakers.cooling,
    )
    return ChatInputs(precheck=precheck, history=history, breakers=breakers)
