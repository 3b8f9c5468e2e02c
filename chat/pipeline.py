"""One chat, top to bottom: limits, precheck, route, call with fallback, meter, stream out.

`chat_prepare` does everything that can refuse a request (limits, shield, plan, budget) and
raises an ApplicationError before a single byte is streamed, so callers can answer with a
plain HTTP error. `chat_stream` then calls providers and yields events; it bills exactly
once whatever happens (success, provider failure mid-stream, client gone) and always frees
the concurrency slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from django.conf import settings

from accounts.errors import ApplicationError
from accounts.models import ApiKey, Organization, User
from billing.errors import InsufficientCredits
from billing.selectors import credit_balance
from billing.types import Entitlement
from chat import conversations
from chat.attempts import attempts_run
from chat.db import db_step
from chat.events import ChatEvent, PrecheckEvent, RouteEvent
from chat.limits import StreamSlot, limit_policy, limits_acquire, slot_release
from chat.providers.base import ChatMessage
from chat.providers.breaker import BreakerView, breaker_view
from chat.snapshots import TenantSnapshot, catalog_snapshot, tenant_snapshot
from routing.errors import InvalidRequest, NotInPlan, PromptBlocked
from routing.precheck.classifier import estimate_tokens
from routing.precheck.pipeline import precheck_run
from routing.services import prompt_check_record
from routing.types import AssistantChoice, ModelInfo, PrecheckOutcome, RouteDecision
from usage import services as metering
from usage.selectors import request_id_used


class NoRouteAvailable(ApplicationError):
    status_code = 503
    error_type = "api_error"
    code = "no_route"


class DuplicateRequest(ApplicationError):
    status_code = 409
    code = "duplicate_request"


@dataclass(frozen=True)
class ChatRequest:
    org: Organization
    user: User
    api_key: ApiKey | None
    messages: tuple[ChatMessage, ...]  # the new turn(s); history is added from the conversation
    request_id: str
    request_id_given: bool = False  # the client's Idempotency-Key, so it may be a replay
    assistant: str | None = None
    mode: str | None = None
    model: str | None = None  # an explicit model slug; None routes
    max_tokens: int | None = None
    temperature: float | None = None
    conversation_id: int | None = None
    has_images: bool = False
    # Our own chat (the API and the browser) keeps conversations and speaks with the
    # assistant's system prompt; /v1 callers are stateless and bring their own.
    product_chat: bool = True


@dataclass
class PreparedChat:
    request: ChatRequest
    outcome: PrecheckOutcome
    decision: RouteDecision
    assistant: AssistantChoice
    entitlement: Entitlement
    targets: list[ModelInfo]
    provider_messages: tuple[ChatMessage, ...]
    breakers: BreakerView
    conversation_id: int | None
    slot: StreamSlot
    deadline: float  # time.monotonic() by which the whole request must end
    skipped: list[str] = field(default_factory=list)


async def chat_prepare(request: ChatRequest) -> PreparedChat:
    """Refuse early (429, 400, 402, 403) or return a chat ready to stream, holding a slot."""
    snapshot = await tenant_snapshot(org=request.org, user=request.user)
    deadline_seconds = settings.CHAT_DEADLINE_SECONDS
    slot = await limits_acquire(
        org_id=request.org.pk,
        user_id=request.user.pk,
        policy=limit_policy(snapshot.entitlement, flagged=snapshot.flagged),
        request_id=request.request_id,
        slot_ttl_seconds=deadline_seconds + 30,
    )
    try:
        prepared = await db_step(_precheck_and_route)(request, snapshot, slot)
    except BaseException:
        await slot_release(slot)
        raise
    prepared.deadline = time.monotonic() + deadline_seconds
    return prepared


def _precheck_and_route(
    request: ChatRequest, snapshot: TenantSnapshot, slot: StreamSlot
) -> PreparedChat:
    if request.request_id_given and request_id_used(org=request.org, request_id=request.request_id):
        raise DuplicateRequest(
            f"Request {request.request_id} was already processed; send a new Idempotency-Key."
        )
    prompt = _last_user_text(request.messages)
    history = conversations.history_for(
        org=request.org, user=request.user, conversation_id=request.conversation_id
    )
    context = [*history, *request.messages[:-1]]
    catalog = catalog_snapshot()
    breakers = breaker_view()
    entitlement = replace(snapshot.entitlement, credits_left=credit_balance(org=request.org))
    outcome = precheck_run(
        text=prompt,
        entitlement=entitlement,
        catalog=catalog,
        rules=snapshot.rules,
        assistant=request.assistant,
        mode=request.mode,
        has_images=request.has_images,
        down_providers=breakers.cooling,
        model=request.model,
        context_tokens=sum(estimate_tokens(m.content) for m in context),
    )
    prompt_check_record(
        org=request.org,
        user=request.user,
        outcome=outcome,
        conversation_id=request.conversation_id,
    )
    if outcome.blocked:
        metering.abuse_record_blocked_prompt(org=request.org, user=request.user)
        raise PromptBlocked(
            str(outcome.refusal),
            {"categories": list(outcome.risk_categories), "risk_level": outcome.risk_level},
        )
    decision, assistant = outcome.decision, outcome.assistant
    if decision is None or assistant is None:  # only blocked outcomes lack them
        raise NoRouteAvailable("The request could not be routed.")
    _refuse_unroutable(decision)
    conversation_id = None
    if request.product_chat:
        conversation_id = conversations.conversation_open(
            org=request.org,
            user=request.user,
            conversation_id=request.conversation_id,
            assistant_family=assistant.family,
            first_prompt=prompt,
        )
        conversations.message_add(
            org=request.org, conversation_id=conversation_id, role="user", content=prompt
        )
    by_slug = {m.slug: m for m in catalog.models}
    targets = [by_slug[slug] for slug in (decision.model, *decision.fallbacks) if slug]
    system = conversations.system_prompt(assistant.family) if request.product_chat else ""
    messages = conversations.trimmed(
        system=system,
        history=context,
        latest=request.messages[-1],
        context_window=min(t.context_window for t in targets),
        reserve=decision.output_tokens,
    )
    return PreparedChat(
        request=request,
        outcome=outcome,
        decision=decision,
        assistant=assistant,
        entitlement=entitlement,
        targets=targets,
        provider_messages=messages,
        breakers=breakers,
        conversation_id=conversation_id,
        slot=slot,
        deadline=0.0,
    )


def _last_user_text(messages: tuple[ChatMessage, ...]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    raise InvalidRequest("messages: there is no user message", {"param": "messages"})


def _refuse_unroutable(decision: RouteDecision) -> None:
    if decision.model is not None:
        return
    message = str(decision.refusal)
    if decision.refusal_code == "insufficient_credits":
        raise InsufficientCredits(message, {"plan_request_url": "/usage/#plan-requests"})
    if decision.refusal_code == "model_not_allowed":
        raise NotInPlan(message, {"param": "model"})
    if decision.refusal_code == "model_not_found":
        raise InvalidRequest(message, {"param": "model"})
    raise NoRouteAvailable(message)


async def chat_stream(prepared: PreparedChat) -> AsyncIterator[ChatEvent]:
    """Call the chosen model, falling back before the first token; bill exactly once."""
    try:
        yield PrecheckEvent(prepared.outcome)
        yield RouteEvent(prepared.decision, prepared.assistant)
        async for event in attempts_run(prepared):
            yield event
    finally:
        # Shielded: a client that goes away cancels this task, and the slot must still free.
        await asyncio.shield(slot_release(prepared.slot))
