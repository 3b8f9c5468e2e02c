"""One chat, top to bottom: limits, precheck, route, call with fallback, meter, stream out.

`chat_prepare` does everything that can refuse a request (limits, shield, plan, budget) and
raises an ApplicationError before a single byte is streamed, so callers can answer with a
plain HTTP error. `chat_stream` then calls providers and yields events; it bills exactly
once whatever happens (success, provider failure mid-stream, client gone) and always frees
the concurrency slot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import ApiKey, Organization, User
from billing.errors import InsufficientCredits
from billing.selectors import entitlement_get
from billing.types import Entitlement
from gateway import conversations
from gateway.db import db_step
from gateway.errors import ApplicationError
from gateway.limits import StreamSlot, limit_policy, limits_acquire, slot_release
from gateway.providers.base import (
    ChatMessage,
    CompletionRequest,
    Delta,
    ProviderError,
    ProviderTarget,
    Timeouts,
    Usage,
)
from gateway.providers.breaker import (
    breaker_allows,
    breaker_open_providers,
    breaker_record_failure,
    breaker_record_success,
)
from gateway.providers.clients import adapter_for
from routing.errors import InvalidRequest, NotInPlan, PromptBlocked
from routing.precheck.pipeline import precheck_run
from routing.selectors import catalog_get, routing_rule_list
from routing.services import prompt_check_record
from routing.types import AssistantChoice, Catalog, ModelInfo, PrecheckOutcome, RouteDecision
from usage import services as metering
from usage.selectors import abuse_flag_open_for, request_id_used

logger = logging.getLogger(__name__)

MAX_RETRIES = 2  # per provider, before the first token
RETRY_AFTER_CAP = 5.0  # seconds: never sleep longer than this on a 429
PROGRESS_EVERY = 64  # deltas between progress writes (what the reconciler bills)
CHARS_PER_TOKEN = 4
TRANSIENT = {"timeout", "rate_limited", "server_error", "connection", "bad_response"}
# A 429 is the provider asking us to slow down, not a sign it is broken: no breaker count.
BREAKER_KINDS = TRANSIENT - {"rate_limited"}


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
    conversation_id: int | None
    slot: StreamSlot
    deadline: float  # time.monotonic() by which the whole request must end
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PrecheckEvent:
    outcome: PrecheckOutcome


@dataclass(frozen=True)
class RouteEvent:
    decision: RouteDecision
    assistant: AssistantChoice


@dataclass(frozen=True)
class DeltaEvent:
    text: str


@dataclass(frozen=True)
class UsageEvent:
    input_tokens: int
    output_tokens: int
    credits: Decimal
    incomplete: bool


@dataclass(frozen=True)
class DoneEvent:
    model: str
    request_id: str
    finish_reason: str
    conversation_id: int | None


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    code: str
    partial: bool  # True when some answer was already delivered (and billed)


ChatEvent = PrecheckEvent | RouteEvent | DeltaEvent | UsageEvent | DoneEvent | ErrorEvent

_catalog_cache: tuple[float, Catalog] | None = None


def _catalog() -> Catalog:
    """The catalog, re-read at most every CATALOG_TTL_SECONDS (staff changes show up then)."""
    global _catalog_cache
    ttl = settings.CATALOG_TTL_SECONDS
    if _catalog_cache is None or time.monotonic() - _catalog_cache[0] > ttl:
        _catalog_cache = (time.monotonic(), catalog_get())
    return _catalog_cache[1]


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


async def chat_prepare(request: ChatRequest) -> PreparedChat:
    """Refuse early (429, 400, 402, 403) or return a chat ready to stream, holding a slot."""
    entitlement, flagged = await db_step(_entitlement)(request)
    deadline_seconds = settings.CHAT_DEADLINE_SECONDS
    slot = await limits_acquire(
        org_id=request.org.pk,
        user_id=request.user.pk,
        policy=limit_policy(entitlement, flagged=flagged),
        request_id=request.request_id,
        slot_ttl_seconds=deadline_seconds + 30,
    )
    try:
        prepared = await db_step(_precheck_and_route)(request, entitlement, slot)
    except BaseException:
        await slot_release(slot)
        raise
    prepared.deadline = time.monotonic() + deadline_seconds
    return prepared


def _entitlement(request: ChatRequest) -> tuple[Entitlement, bool]:
    entitlement = entitlement_get(org=request.org, user=request.user)
    return entitlement, abuse_flag_open_for(org=request.org, user=request.user)


def _precheck_and_route(
    request: ChatRequest, entitlement: Entitlement, slot: StreamSlot
) -> PreparedChat:
    if request_id_used(org=request.org, request_id=request.request_id):
        raise DuplicateRequest(
            f"Request {request.request_id} was already processed; send a new Idempotency-Key."
        )
    prompt = _last_user_text(request.messages)
    history = conversations.history_for(
        org=request.org, user=request.user, conversation_id=request.conversation_id
    )
    context = [*history, *request.messages[:-1]]
    catalog = _catalog()
    outcome = precheck_run(
        text=prompt,
        entitlement=entitlement,
        catalog=catalog,
        rules=routing_rule_list(org=request.org),
        assistant=request.assistant,
        mode=request.mode,
        has_images=request.has_images,
        down_providers=breaker_open_providers(),
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
        raise InsufficientCredits(message, {"plan_request_url": "/app/plan-requests/"})
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
        async for event in _attempts(prepared):
            yield event
    finally:
        await slot_release(prepared.slot)


async def _attempts(prepared: PreparedChat) -> AsyncIterator[ChatEvent]:
    attempt, previous_call, last_error = 0, None, "No provider could answer."
    for target in prepared.targets:
        if not await breaker_allows(target.provider):
            prepared.skipped.append(f"{target.slug}: circuit open")
            continue
        for retry in range(MAX_RETRIES + 1):
            attempt += 1
            run = _Attempt(prepared, target, attempt, previous_call)
            async for event in run.events():
                yield event
            if run.finished:
                return
            previous_call = run.call_id
            error = run.error or ProviderError("no answer", kind="bad_response")
            last_error = f"{target.display_name}: {error}"
            if not await _should_retry(error, retry, prepared.deadline):
                break
    prepared.skipped.append(last_error)
    yield ErrorEvent(
        message=f"All providers failed. Last error: {last_error}",
        code="provider_error",
        partial=False,
    )


async def _should_retry(error: ProviderError, retry: int, deadline: float) -> bool:
    if error.permanent or retry >= MAX_RETRIES or error.kind not in TRANSIENT:
        return False
    if error.kind == "timeout":
        return False  # a hung provider will hang again: fall back instead
    wait = min(error.retry_after or 0.2 * 2**retry, RETRY_AFTER_CAP)
    if time.monotonic() + wait >= deadline:
        return False
    await asyncio.sleep(wait)
    return True


class _Attempt:
    """One provider attempt: its ModelCall, its stream, and its metering."""

    def __init__(
        self, prepared: PreparedChat, target: ModelInfo, attempt: int, fallback_of: int | None
    ) -> None:
        self.prepared = prepared
        self.target = target
        self.attempt = attempt
        self.fallback_of = fallback_of
        self.call_id: int | None = None
        self.error: ProviderError | None = None
        self.finished = False  # True: this attempt ended the request (billed or not)
        self.text: list[str] = []
        self.started = time.monotonic()
        self.ttft_ms: int | None = None

    async def events(self) -> AsyncIterator[ChatEvent]:
        self.call_id = await db_step(self._start)()
        reported: Usage | None = None
        try:
            async for item in self._provider_stream():
                if isinstance(item, Delta):
                    if not item.text:
                        continue
                    await self._on_delta(item.text)
                    yield DeltaEvent(item.text)
                else:
                    reported = item
        except ProviderError as error:
            self.error = error
            if self.text:
                async for event in self._end_partial(error):
                    yield event
            else:
                await self._fail(error)
            return
        except (asyncio.CancelledError, GeneratorExit):
            await asyncio.shield(self._bill("cancelled", None, incomplete=True))
            raise
        async for event in self._end_success(reported):
            yield event

    def _start(self) -> int:
        prepared, request = self.prepared, self.prepared.request
        why = prepared.decision.reason if self.attempt == 1 else "fallback after a failure"
        call = metering.model_call_start(
            org=request.org,
            user=request.user,
            api_key=request.api_key,
            conversation_id=prepared.conversation_id,
            request_id=request.request_id,
            attempt=self.attempt,
            fallback_of_id=self.fallback_of,
            provider_id=self.target.provider_id,
            model_id=self.target.model_id,
            assistant_family=prepared.assistant.family,
            task_type=prepared.outcome.task_type,
            route_reasons=[why, *prepared.skipped],
            deadline_at=timezone.now() + timedelta(seconds=prepared.deadline - time.monotonic()),
            display_multiplier=prepared.entitlement.display_multiplier,
        )
        return call.pk

    async def _provider_stream(self) -> AsyncIterator[Delta | Usage]:
        target = ProviderTarget(
            provider=self.target.provider,
            kind=self.target.provider_kind,
            api_base=self.target.api_base,
            key_env=self.target.key_env,
            model=self.target.slug,
        )
        remaining = max(self.prepared.deadline - time.monotonic(), 1.0)
        timeouts = Timeouts(
            connect=min(settings.PROVIDER_CONNECT_TIMEOUT, remaining),
            first_byte=min(settings.PROVIDER_FIRST_BYTE_TIMEOUT, remaining),
            between_chunks=min(settings.PROVIDER_CHUNK_TIMEOUT, remaining),
        )
        request = self.prepared.request
        completion = CompletionRequest(
            messages=self.prepared.provider_messages,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
        )
        # The adapter's timeouts bound every wait; the deadline is checked between chunks
        # (an asyncio.timeout cannot span the yields of an async generator safely).
        async for item in adapter_for(target).stream(target, completion, timeouts):
            if time.monotonic() > self.prepared.deadline:
                raise ProviderError("the request deadline passed", kind="timeout", permanent=True)
            yield item

    async def _on_delta(self, text: str) -> None:
        if not self.text:
            self.ttft_ms = int((time.monotonic() - self.started) * 1000)
            await db_step(metering.model_call_mark_streaming)(call_id=self.call_id)
            await breaker_record_success(self.target.provider)
        self.text.append(text)
        if len(self.text) % PROGRESS_EVERY == 0:
            await db_step(metering.model_call_update_progress)(
                call_id=self.call_id,
                output_tokens=self._output_estimate(),
                input_tokens=self.prepared.decision.input_tokens,
            )

    def _output_estimate(self) -> int:
        return estimate_tokens("".join(self.text)) if self.text else 0

    async def _fail(self, error: ProviderError) -> None:
        if error.kind in BREAKER_KINDS:
            await breaker_record_failure(self.target.provider)
        await db_step(metering.model_call_fail)(
            call_id=self.call_id, error=str(error), latency_ms=self._elapsed_ms()
        )

    async def _end_partial(self, error: ProviderError) -> AsyncIterator[ChatEvent]:
        self.finished = True
        if error.kind in BREAKER_KINDS:
            await breaker_record_failure(self.target.provider)
        usage = await self._bill("failed", None, incomplete=True)
        yield usage
        yield ErrorEvent(
            message=f"The answer was cut off: {error}. The partial answer was kept.",
            code="provider_error",
            partial=True,
        )

    async def _end_success(self, reported: Usage | None) -> AsyncIterator[ChatEvent]:
        self.finished = True
        yield await self._bill("succeeded", reported, incomplete=False)
        yield DoneEvent(
            model=self.target.slug,
            request_id=self.prepared.request.request_id,
            finish_reason="stop",
            conversation_id=self.prepared.conversation_id,
        )

    async def _bill(self, status: str, reported: object, *, incomplete: bool) -> UsageEvent:
        input_tokens = (
            getattr(reported, "input_tokens", None) or self.prepared.decision.input_tokens
        )
        # Only delivered tokens are billed: a provider's count is trusted when the stream
        # completed; after a cut or a cancel the delivered text is what counts.
        output_tokens = (
            getattr(reported, "output_tokens", None) if not incomplete else None
        ) or self._output_estimate()
        billed = await db_step(self._finish)(status, input_tokens, output_tokens, incomplete)
        credits = billed.display_cost if billed else Decimal(0)
        return UsageEvent(input_tokens, output_tokens, credits, incomplete)

    def _finish(
        self, status: str, input_tokens: int, output_tokens: int, incomplete: bool
    ) -> metering.BilledUsage | None:
        request = self.prepared.request
        billed = metering.model_call_finish(
            org=request.org,
            call_id=self.call_id,
            request_id=request.request_id,
            status=status,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=self._elapsed_ms(),
            ttft_ms=self.ttft_ms,
            incomplete=incomplete,
        )
        if self.text and self.prepared.conversation_id is not None:
            conversations.message_add(
                org=request.org,
                conversation_id=self.prepared.conversation_id,
                role="assistant",
                content="".join(self.text),
                model_call_id=self.call_id,
                incomplete=incomplete,
            )
        return billed

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
