"""What the precheck and routing read for one chat, built by one function for the send and its
previews (the chat page's hint and `POST /api/ai/precheck`), so a preview decides exactly as
the send will: the same catalog and plan snapshots, fresh credits, the providers' breakers and
the conversation's history. The send reads them without leaving the event loop; the previews,
which are sync views, read the same things synchronously."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from accounts.sql import Sql, sql_run
from billing.budget import budget_parse, budget_sql
from billing.types import Budget
from chat import conversations
from chat.db import db_step, hot_run
from chat.providers.base import ChatMessage
from chat.providers.breaker import BreakerView, breaker_view, breaker_view_async
from chat.snapshots import (
    TenantSnapshot,
    catalog_snapshot,
    catalog_snapshot_async,
    tenant_snapshot_get,
)
from chat.types import ChatRequest
from routing.precheck.classifier import estimate_tokens
from routing.types import Catalog, PrecheckInputs


@dataclass(frozen=True)
class ChatInputs:
    precheck: PrecheckInputs
    history: tuple[ChatMessage, ...]  # the conversation so far, oldest first
    breakers: BreakerView


def chat_inputs_build(
    request: ChatRequest,
    *,
    tenant: TenantSnapshot,
    catalog: Catalog,
    budget: Budget,
    breakers: BreakerView,
    history: Sequence[ChatMessage],
) -> ChatInputs:
    """The inputs of `request` from what was read for it."""
    context = [*history, *request.messages[:-1]]
    precheck = PrecheckInputs(
        prompt=request.prompt,
        entitlement=replace(tenant.entitlement, credits_left=budget.credits_left, cap=budget.cap),
        catalog=catalog,
        rules=tenant.rules,
        context_tokens=sum(estimate_tokens(m.content) for m in context),
        assistant=request.assistant,
        mode=request.mode,
        model=request.model,
        has_images=request.has_images,
        down_providers=breakers.cooling,
        system_prompt=request.product_chat,
        max_output_tokens=request.max_tokens,
    )
    return ChatInputs(precheck=precheck, history=tuple(history), breakers=breakers)


async def chat_inputs(request: ChatRequest, *, tenant: TenantSnapshot) -> ChatInputs:
    """The send's inputs: credits, breakers and history read concurrently."""
    budget, breakers, history, catalog = await asyncio.gather(
        hot_run(_budget_sql(request)),
        breaker_view_async(),
        _history(request),
        catalog_snapshot_async(),
    )
    inputs = chat_inputs_build(
        request,
        tenant=tenant,
        catalog=catalog,
        budget=budget_parse(budget),
        breakers=breakers,
        history=history,
    )
    # Only the send explores (routing.policy.exploration_pick); previews show the evidence's pick.
    draw = random.random()  # noqa: S311 - sampling, not security
    return replace(inputs, precheck=replace(inputs.precheck, exploration_draw=draw))


def _budget_sql(request: ChatRequest) -> Sql:
    return budget_sql(org_id=request.org.pk, user_id=request.user.pk, api_key_id=request.api_key_id)


async def _history(request: ChatRequest) -> list[ChatMessage]:
    if request.conversation_id is None:
        return []
    return await db_step(conversations.history_for)(
        org=request.org, user=request.user, conversation_id=request.conversation_id
    )


def chat_inputs_sync(request: ChatRequest) -> ChatInputs:
    """A preview's inputs, for sync views."""
    budget = sql_run(_budget_sql(request))
    history = conversations.history_for(
        org=request.org, user=request.user, conversation_id=request.conversation_id
    )
    return chat_inputs_build(
        request,
        tenant=tenant_snapshot_get(org=request.org, user=request.user),
        catalog=catalog_snapshot(),
        budget=budget_parse(budget),
        breakers=breaker_view(),
        history=history,
    )
