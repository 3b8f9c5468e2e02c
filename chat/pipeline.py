"""One chat, top to bottom, in DESIGN.md's order: auth'd caller -> limits -> precheck ->
assistant -> route -> guard -> provider attempts -> meter -> stream out.

`chat_prepare` runs every step that can refuse (limits, shield, plan, budget) and raises an
ApplicationError before a byte is streamed, so each caller answers with a plain HTTP error or
an error event. `chat_stream` then calls providers and yields events; it bills exactly once
whatever happens (success, a provider dying mid-stream, the client leaving) and always frees
the stream slot. The three callers (`/v1`, `/api/ai/chat`, the WebSocket) differ only in how
they parse a request and write events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

from django.conf import settings

from accounts.sql import Sql
from chat import conversations
from chat.attempts import attempts_run
from chat.cache import (
    CacheFeed,
    cached_answer_events,
    cached_model,
    chat_cache_lookup,
    embedding_start,
)
from chat.db import db_step, hot_run
from chat.errors import DuplicateRequest, route_guard
from chat.events import ChatEvent, DoneEvent, PrecheckEvent, RouteEvent
from chat.inputs import ChatInputs, chat_inputs
from chat.limits import SlotRelease, StreamSlot, limit_policy, limits_acquire, slot_release
from chat.observe import (
    cache_lookup_counted,
    chat_counted,
    precheck_logged,
    refusal_outcome,
    route_logged,
)
from chat.snapshots import TenantSnapshot, tenant_snapshot
from chat.types import ChatRequest, PreparedChat
from routing.assistants import assistant_choose
from routing.cache.embedders import Vector
from routing.cache.lookup import CacheLookup
from routing.errors import PromptBlocked
from routing.policy import route_request, route_select
from routing.precheck.pipeline import precheck_run
from routing.services import prompt_check_sql
from routing.types import PrecheckOutcome, RoutePreview
from usage.selectors import request_id_used
from usage.services import abuse_record_blocked_prompt


async def chat_prepare(request: ChatRequest) -> PreparedChat:
    """Refuse early (429, 400, 402, 403, 409) or return a chat ready to stream, holding a slot.
    A refused chat is counted here; one that streams is counted when its stream ends."""
    try:
        return await _prepare(request)
    except PromptBlocked:
        raise  # counted where the precheck blocked it, with its task type
    except BaseException as error:
        chat_counted(refusal_outcome(error), "")
        raise


async def _prepare(request: ChatRequest) -> PreparedChat:
    deadline = time.monotonic() + _deadline_seconds(request)
    tenant = await tenant_snapshot(org=request.org, user=request.user)
    if request.request_id_given:
        await db_step(_refuse_replay)(request)
    # The precheck needs only the prompt and the plan: its CPU work runs while the slot and
    # the routing inputs are on their way.
    admitting = asyncio.ensure_future(_admit(request, tenant))
    embedding = embedding_start(request, tenant)  # once per request, for lookup and store
    try:
        outcome = precheck_run(
            text=request.prompt, entitlement=tenant.entitlement, has_images=request.has_images
        )
    except BaseException:
        embedding.cancel()
        slot, _ = await admitting  # a refusal by the limits (429) comes before a bad prompt
        await slot_release(slot)
        raise
    try:
        slot, inputs = await admitting
    except BaseException:
        embedding.cancel()
        raise
    try:
        return await _route(request, slot, inputs, outcome, deadline, embedding)
    except BaseException:
        embedding.cancel()
        await slot_release(slot)
        raise


async def _admit(request: ChatRequest, tenant: TenantSnapshot) -> tuple[StreamSlot, ChatInputs]:
    """A stream slot (or 429) and what routing reads, fetched at once: a refused request
    wastes one read, an admitted one waits for one round trip instead of two."""
    slot, inputs = await asyncio.gather(
        limits_acquire(
            org_id=request.org.pk,
            user_id=request.user.pk,
            policy=limit_policy(tenant.entitlement, flagged=tenant.flagged),
            request_id=request.request_id,
            slot_ttl_seconds=settings.CHAT_DEADLINE_SECONDS + 30,
        ),
        chat_inputs(request, tenant=tenant),
        return_exceptions=True,
    )
    if isinstance(slot, BaseException):
        raise slot
    if isinstance(inputs, BaseException):
        await slot_release(slot)
        raise inputs
    return slot, inputs


async def _route(
    request: ChatRequest,
    slot: StreamSlot,
    inputs: ChatInputs,
    outcome: PrecheckOutcome,
    deadline: float,
    embedding: asyncio.Task[Vector | None],
) -> PreparedChat:
    entitlement, catalog = inputs.precheck.entitlement, inputs.precheck.catalog
    precheck_logged(outcome)
    if outcome.blocked:
        raise await _blocked(request, outcome)
    assistant = assistant_choose(outcome=outcome, inputs=inputs.precheck)
    decision = route_select(
        request=route_request(outcome=outcome, assistant=assistant, inputs=inputs.precheck),
        catalog=catalog,
        entitlement=entitlement,
        rules=inputs.precheck.rules,
        down_providers=inputs.breakers.cooling,
    )
    route_logged(decision)
    preview = RoutePreview(outcome, assistant, decision)
    try:
        targets = route_guard(decision, catalog)
    except Exception:
        await _record(request, preview, request.conversation_id)
        raise
    conversation_id, messages = await conversations.chat_turn_open(
        request=request,
        assistant=assistant,
        history=inputs.history,
        decision=decision,
        context_window=min(t.context_window for t in targets),
    )
    lookup, cache_key = await chat_cache_lookup(
        request,
        embedding=embedding,
        outcome=outcome,
        assistant=assistant,
        decision=decision,
        messages=messages,
        catalog=catalog,
        entitlement=entitlement,
    )
    cache_lookup_counted(str(lookup.result))
    return PreparedChat(
        request=request,
        outcome=outcome,
        assistant=assistant,
        decision=decision,
        entitlement=entitlement,
        targets=targets,
        benchmark_prices=catalog.benchmark_prices,
        provider_messages=messages,
        breakers=inputs.breakers,
        conversation_id=conversation_id,
        slot=slot,
        deadline=deadline,
        # Written with the first provider attempt's ModelCall: one round trip for both.
        precheck_record=_record_sql(request, preview, conversation_id, lookup),
        cache=lookup,
        cache_key=None if lookup.hit else cache_key,
        cache_model=cached_model(lookup, catalog),
    )


def _deadline_seconds(request: ChatRequest) -> int:
    """A streamed answer may run long; one returned whole must come back while a client waits."""
    if request.streamed:
        return int(settings.CHAT_DEADLINE_SECONDS)
    return min(settings.CHAT_DEADLINE_SECONDS, settings.CHAT_WHOLE_ANSWER_DEADLINE_SECONDS)


def _refuse_replay(request: ChatRequest) -> None:
    if request_id_used(org=request.org, request_id=request.request_id):
        raise DuplicateRequest(
            f"Request {request.request_id} was already processed; send a new Idempotency-Key."
        )


async def _blocked(request: ChatRequest, outcome: PrecheckOutcome) -> PromptBlocked:
    """Record a blocked prompt (and count it against the user) before refusing it."""
    await _record(request, RoutePreview(outcome, None, None), request.conversation_id)
    await db_step(abuse_record_blocked_prompt)(org=request.org, user=request.user)
    chat_counted("blocked", outcome.task_type)
    categories = list(outcome.risk_categories)
    extra = {"categories": categories, "risk_level": outcome.risk_level}
    return PromptBlocked(str(outcome.refusal), extra)


async def _record(request: ChatRequest, preview: RoutePreview, conversation_id: int | None) -> None:
    await hot_run(_record_sql(request, preview, conversation_id))


def _record_sql(
    request: ChatRequest,
    preview: RoutePreview,
    conversation_id: int | None,
    lookup: CacheLookup | None = None,
) -> Sql:
    return prompt_check_sql(
        org_id=request.org.pk,
        user_id=request.user.pk,
        preview=preview,
        conversation_id=conversation_id,
        request_id=request.request_id,
        cache_outcome=str(lookup.result) if lookup else "",
        cache_guard=lookup.guard or "" if lookup else "",
    )


async def chat_stream(prepared: PreparedChat) -> AsyncGenerator[ChatEvent, None]:
    """Call the chosen model, falling back before the first token; bill exactly once."""
    release = SlotRelease(prepared.slot)
    outcome = "error"  # until the answer is done: a provider failure, a cut, a client gone
    try:
        yield PrecheckEvent(prepared.outcome, prepared.assistant, prepared.decision)
        model = prepared.cache_model
        if prepared.cache.hit and model is not None:
            release.start()  # no provider stream to wait for
            name = f"{model.display_name} (cached answer)"
            yield RouteEvent(prepared.decision, prepared.assistant, name)
            async for event in cached_answer_events(prepared, model):
                yield event
            outcome = "cached"
            return
        yield RouteEvent(prepared.decision, prepared.assistant, prepared.targets[0].display_name)
        feed = CacheFeed(prepared)
        async for event in attempts_run(prepared, provider_done=release.start):
            feed.see(event)
            if isinstance(event, DoneEvent):
                outcome = "ok"
                feed.keep(event)  # scheduled, not awaited: stored after the answer is out
            yield event
    finally:
        chat_counted(outcome, prepared.outcome.task_type)
        # Shielded: a client that goes away cancels this task, and the slot must still free.
        await asyncio.shield(release.finish())
