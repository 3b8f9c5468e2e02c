"""Provider attempts: one ModelCall each, retried or fallen back before the first token,
metered exactly once whatever happens after it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat import conversations
from chat.db import db_step
from chat.events import ChatEvent, DeltaEvent, DoneEvent, ErrorEvent, UsageEvent
from chat.providers.base import (
    CompletionRequest,
    Delta,
    ProviderError,
    ProviderTarget,
    Timeouts,
    Usage,
)
from chat.providers.breaker import (
    breaker_allows,
    breaker_record_failure,
    breaker_record_success,
)
from chat.providers.clients import adapter_for
from routing.precheck.classifier import estimate_tokens
from routing.types import ModelInfo
from usage import services as metering

if TYPE_CHECKING:
    from chat.pipeline import PreparedChat

MAX_RETRIES = 2  # per provider, before the first token
RETRY_AFTER_CAP = 5.0  # seconds: never sleep longer than this on a 429
PROGRESS_EVERY = 64  # deltas between progress writes (what the reconciler bills)
TRANSIENT = {"timeout", "rate_limited", "server_error", "connection", "bad_response"}
# A 429 is the provider asking us to slow down, not a sign it is broken: no breaker count.
BREAKER_KINDS = TRANSIENT - {"rate_limited"}


async def attempts_run(prepared: PreparedChat) -> AsyncIterator[ChatEvent]:
    """Down the ranked targets: skip open breakers, retry transient failures before the
    first token, stop at the first attempt that ends the request."""
    attempt, previous_call, last_error = 0, None, "No provider could answer."
    for target in prepared.targets:
        unsettled = target.provider in prepared.breakers.unsettled
        if unsettled and not await breaker_allows(target.provider):
            prepared.skipped.append(f"{target.slug}: circuit open")
            continue
        for retry in range(MAX_RETRIES + 1):
            attempt += 1
            run = ProviderAttempt(prepared, target, attempt, previous_call)
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


class ProviderAttempt:
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
        self.first_token_recorded: asyncio.Task[None] | None = None

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
            # Written while the token goes out, not before: the first token waits for nothing.
            self.first_token_recorded = asyncio.create_task(self._record_first_token())
        self.text.append(text)
        if len(self.text) % PROGRESS_EVERY == 0:
            await db_step(metering.model_call_update_progress)(
                call_id=self.call_id,
                output_tokens=self._output_estimate(),
                input_tokens=self.prepared.decision.input_tokens,
            )

    async def _record_first_token(self) -> None:
        await db_step(metering.model_call_mark_streaming)(call_id=self.call_id)
        if self.target.provider in self.prepared.breakers.unsettled:
            await breaker_record_success(self.target.provider)

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
        if self.first_token_recorded is not None:
            await self.first_token_recorded
        billed = await db_step(self._finish)(status, input_tokens, output_tokens, incomplete)
        credits = billed.display_cost if billed else Decimal(0)
        return UsageEvent(input_tokens, output_tokens, credits, incomplete)

    def _finish(
        self, status: str, input_tokens: int, output_tokens: int, incomplete: bool
    ) -> metering.BilledUsage | None:
        """Bill the attempt and keep the answer in its conversation, in one transaction."""
        request = self.prepared.request
        keep_answer = bool(self.text) and self.prepared.conversation_id is not None
        # Billing is a transaction of its own; an outer one only to add the message with it.
        with transaction.atomic() if keep_answer else nullcontext():
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
            if keep_answer:
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
