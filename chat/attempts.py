"""Provider attempts: one ModelCall each, retried or fallen back before the first token,
metered exactly once whatever happens after it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.sql import sql_together
from chat.audits import audit_enqueue, audit_rate_for, audit_sampled
from chat.conversations import answer_store_sql
from chat.db import db_step, hot_run, hot_transaction
from chat.events import ChatEvent, DeltaEvent, DoneEvent, ErrorEvent, UsageEvent
from chat.observe import attempt_observed, bill_observed, fallback_counted
from chat.providers.base import (
    CompletionRequest,
    Delta,
    Finish,
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
from chat.types import PreparedChat
from routing.precheck.classifier import estimate_tokens
from routing.types import ModelInfo
from usage.models import CallStatus
from usage.services import (
    BilledUsage,
    CallOutcome,
    CallPrices,
    abuse_record_high_cost_call,
    model_call_bill_sql,
    model_call_fail_delivered_by_id,
    model_call_fail_sql,
    model_call_open_sql,
    model_call_progress_sql,
    model_call_streaming_sql,
    usage_billed,
)

MAX_RETRIES = 2  # per provider, before the first token
RETRY_AFTER_CAP = 5.0  # seconds: never sleep longer than this on a 429
PROGRESS_EVERY = 64  # deltas between progress writes (what the reconciler bills)
TRANSIENT = {"timeout", "rate_limited", "server_error", "connection", "bad_response"}
# A 429 is the provider asking us to slow down, not a sign it is broken: no breaker count.
BREAKER_KINDS = TRANSIENT - {"rate_limited"}


async def attempts_run(
    prepared: PreparedChat, *, provider_done: Callable[[], None]
) -> AsyncIterator[ChatEvent]:
    """Down the ranked targets: skip open breakers, retry transient failures before the
    first token, stop at the first attempt that ends the request (calling `provider_done`
    once its provider stream is over, before it is billed)."""
    attempt, previous_call, last_error = 0, None, "No provider could answer."
    skipped: list[str] = []  # why earlier targets did not answer, for the next call's record
    left: str | None = None  # the provider the request just gave up on
    for target in prepared.targets:
        if left is not None:
            fallback_counted(left)
        left = target.provider
        unsettled = target.provider in prepared.breakers.unsettled
        if unsettled and not await breaker_allows(target.provider):
            skipped.append(f"{target.slug}: circuit open")
            continue
        for retry in range(MAX_RETRIES + 1):
            attempt += 1
            run = ProviderAttempt(
                prepared, target, attempt, previous_call, tuple(skipped), provider_done
            )
            async for event in run.events():
                yield event
            if run.finished:
                return
            previous_call = run.call_id
            error = run.error or ProviderError("no answer", kind="bad_response")
            if error.kind == "deadline":
                yield ErrorEvent(
                    message="No model answered within the request's time limit.",
                    code="deadline_exceeded",
                    partial=False,
                )
                return
            last_error = f"{target.display_name}: {error}"
            skipped.append(last_error)
            if not await _should_retry(error, retry, prepared.deadline):
                break
    if attempt == 0:  # every provider's circuit was open: the precheck is still recorded
        await hot_run(prepared.precheck_record)
    yield ErrorEvent(
        message=f"All providers failed. Last error: {last_error}",
        code="provider_error",
        partial=False,
    )


def error_text(error: ProviderError) -> str:
    """A failed attempt's error as its ModelCall keeps it: the kind first, for the staff
    pages' error rates by kind."""
    return f"{error.kind}: {error}"


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
        self,
        prepared: PreparedChat,
        target: ModelInfo,
        attempt: int,
        fallback_of: int | None,
        skipped: tuple[str, ...],
        provider_done: Callable[[], None],
    ) -> None:
        self.prepared = prepared
        self.provider_done = provider_done
        self.target = target
        self.attempt = attempt
        self.fallback_of = fallback_of
        self.skipped = skipped
        self.org_id = prepared.request.org.pk
        self.call_id = 0  # set once the ModelCall's row is written (`_opened`)
        self.opening: asyncio.Task[int] | None = None
        self.error: ProviderError | None = None
        self.finished = False  # True: this attempt ended the request (billed or not)
        self.text: list[str] = []
        self.started = time.monotonic()
        self.ttft_ms: int | None = None
        self.first_token_recorded: asyncio.Task[None] | None = None

    async def events(self) -> AsyncIterator[ChatEvent]:
        # The ModelCall's row is written while the provider is called, not before: the call
        # waits for no round trip, and every write that needs the row awaits it (`_opened`).
        self.opening = asyncio.create_task(self._open())
        finish: Finish | None = None
        try:
            async for item in self._provider_stream():
                if isinstance(item, Finish):
                    finish = item
                elif item.text:
                    await self._on_delta(item.text)
                    yield DeltaEvent(item.text)
        except ProviderError as error:
            self.error = error
            self._observed(CallStatus.FAILED, error.kind)
            if self.text:
                async for event in self._end_partial(error):
                    yield event
            else:
                await self._fail(error)
            return
        except (asyncio.CancelledError, GeneratorExit):
            self._observed(CallStatus.CANCELLED)
            await asyncio.shield(self._bill(CallStatus.CANCELLED, None, incomplete=True))
            raise
        self._observed(CallStatus.SUCCEEDED)
        async for event in self._end_success(finish):
            yield event

    def _observed(self, status: str, error_kind: str = "") -> None:
        attempt_observed(
            self.target,
            attempt=self.attempt,
            status=status,
            seconds=time.monotonic() - self.started,
            ttft_seconds=None if self.ttft_ms is None else self.ttft_ms / 1000,
            error_kind=error_kind,
        )

    async def _opened(self) -> int:
        """The ModelCall's id, once its row is written."""
        if not self.call_id:
            assert self.opening is not None  # noqa: S101 - events() starts it first
            self.call_id = await asyncio.shield(self.opening)
        return self.call_id

    async def _open(self) -> int:
        prepared, request = self.prepared, self.prepared.request
        why = prepared.decision.reason if self.attempt == 1 else "fallback after a failure"
        seconds_left = prepared.deadline - time.monotonic()
        sql = model_call_open_sql(
            org_id=self.org_id,
            user_id=request.user.pk,
            api_key_id=request.api_key_id,
            conversation_id=prepared.conversation_id,
            request_id=request.request_id,
            attempt=self.attempt,
            fallback_of_id=self.fallback_of,
            provider_id=self.target.provider_id,
            model_id=self.target.model_id,
            assistant_family=prepared.assistant.family,
            task_type=prepared.outcome.task_type,
            route_reasons=[why, *self.skipped],
            deadline_at=timezone.now() + timedelta(seconds=seconds_left),
            display_multiplier=prepared.entitlement.display_multiplier,
            end_user=request.end_user,
        )
        if self.attempt == 1:
            sql = sql_together(prepared.precheck_record, sql)
        row = await hot_run(sql)
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return int(row[0])

    async def _provider_stream(self) -> AsyncIterator[Delta | Finish]:
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
                raise ProviderError("the request deadline passed", kind="deadline", permanent=True)
            yield item

    async def _on_delta(self, text: str) -> None:
        if not self.text:
            self.ttft_ms = int((time.monotonic() - self.started) * 1000)
            # Written while the token goes out, not before: the first token waits for nothing.
            self.first_token_recorded = asyncio.create_task(self._record_first_token())
        self.text.append(text)
        # Progress is what the reconciler bills if this process dies mid-stream. A client
        # that is not streamed has seen nothing until the end, so there is nothing to record.
        if self.prepared.request.streamed and len(self.text) % PROGRESS_EVERY == 0:
            await hot_run(
                model_call_progress_sql(
                    org_id=self.org_id,
                    call_id=await self._opened(),
                    output_tokens=self._output_estimate(),
                    input_tokens=self.prepared.decision.input_tokens,
                )
            )

    async def _record_first_token(self) -> None:
        if self.prepared.request.streamed:
            call_id = await self._opened()
            await hot_run(model_call_streaming_sql(org_id=self.org_id, call_id=call_id))
        if self.target.provider in self.prepared.breakers.unsettled:
            await breaker_record_success(self.target.provider)

    def _output_estimate(self) -> int:
        return estimate_tokens("".join(self.text)) if self.text else 0

    async def _fail(self, error: ProviderError) -> None:
        if error.kind in BREAKER_KINDS:
            await breaker_record_failure(self.target.provider)
        sql = model_call_fail_sql(
            org_id=self.org_id,
            call_id=await self._opened(),
            error=error_text(error),
            status=CallStatus.FAILED,
            latency_ms=self._elapsed_ms(),
            now=timezone.now(),
        )
        if await hot_run(sql) is None:  # progress shows tokens after all: bill those
            await db_step(model_call_fail_delivered_by_id)(
                call_id=self.call_id, error=error_text(error), latency_ms=self._elapsed_ms()
            )

    async def _end_partial(self, error: ProviderError) -> AsyncIterator[ChatEvent]:
        self.finished = True
        self.provider_done()
        if error.kind in BREAKER_KINDS:
            await breaker_record_failure(self.target.provider)
        yield await self._bill(CallStatus.FAILED, None, incomplete=True)
        cause = "it reached the request's time limit" if error.kind == "deadline" else error
        yield ErrorEvent(
            message=f"The answer was cut off: {cause}. The partial answer was kept.",
            code="deadline_exceeded" if error.kind == "deadline" else "provider_error",
            partial=True,
        )

    async def _end_success(self, finish: Finish | None) -> AsyncIterator[ChatEvent]:
        self.finished = True
        self.provider_done()
        usage = finish.usage if finish else None
        yield await self._bill(CallStatus.SUCCEEDED, usage, incomplete=False)
        yield DoneEvent(
            model=self.target.slug,
            request_id=self.prepared.request.request_id,
            finish_reason=finish.reason if finish else "stop",
            conversation_id=self.prepared.conversation_id,
        )

    async def _bill(self, status: str, reported: Usage | None, *, incomplete: bool) -> UsageEvent:
        decision = self.prepared.decision
        # Only delivered tokens are billed: a provider's count is trusted when the stream
        # completed; after a cut or a cancel the delivered text is what counts.
        input_tokens = (reported.input_tokens if reported else 0) or decision.input_tokens
        output_tokens = (reported.output_tokens if reported and not incomplete else 0) or (
            self._output_estimate()
        )
        if self.first_token_recorded is not None:
            await self.first_token_recorded
        outcome = CallOutcome(
            status=status,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=self._elapsed_ms(),
            ttft_ms=self.ttft_ms,
            incomplete=incomplete,
            finished_at=timezone.now(),
        )
        await self._opened()
        billed = await self._record(outcome)
        credits = billed.display_cost if billed else Decimal(0)
        return UsageEvent(input_tokens, output_tokens, credits, incomplete)

    async def _record(self, outcome: CallOutcome) -> BilledUsage | None:
        """Bill the attempt and keep the answer in its conversation, in one transaction."""
        request, target = self.prepared.request, self.target
        prices = CallPrices(
            input_cost_per_mtok=target.input_cost_per_mtok,
            output_cost_per_mtok=target.output_cost_per_mtok,
            multiplier=self.prepared.entitlement.display_multiplier,
            currency=target.currency,
            benchmark=self.prepared.benchmark_prices,
        )
        cost = prices.cost(outcome) if outcome.billable else None
        bill = model_call_bill_sql(
            org_id=self.org_id,
            call_id=self.call_id,
            request_id=request.request_id,
            outcome=outcome,
            cost=cost,
            currency=prices.currency,
            model_slug=target.slug,
        )
        if self.text and self.prepared.conversation_id is not None:
            answer = answer_store_sql(
                org_id=self.org_id,
                conversation_id=self.prepared.conversation_id,
                content="".join(self.text),
                model_call_id=self.call_id,
                incomplete=outcome.incomplete,
            )
            async with hot_transaction() as conn:
                billed_row = await hot_run(bill, conn)
                await hot_run(answer, conn)
        else:
            billed_row = await hot_run(bill)
        usage_id, user_id = billed_row or (None, None)
        if usage_id is None or cost is None:
            return await db_step(usage_billed)(org_id=self.org_id, request_id=request.request_id)
        if not outcome.incomplete and self.prepared.conversation_id is not None:
            self._audit_maybe()
        bill_observed(
            target.slug,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            raw_cost=cost.raw_cost,
            credits=cost.display_cost,
        )
        if cost.display_cost >= settings.ABUSE_HIGH_COST_CREDITS:
            await db_step(abuse_record_high_cost_call)(
                org=request.org, user_id=user_id, display_cost=cost.display_cost
            )
        return BilledUsage(
            usage_record_id=usage_id,
            raw_cost=cost.raw_cost,
            display_cost=cost.display_cost,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            created=True,
        )

    def _audit_maybe(self) -> None:
        """Sample the billed answer for a shadow audit; only a sampled one leaves the process."""
        decision = self.prepared.decision
        rate = audit_rate_for(
            plan_rate=self.prepared.entitlement.audit_rate,
            exploring=decision.exploring and self.target.slug == decision.model,
        )
        if audit_sampled(
            target=self.target, rate=rate, benchmark_output_price=self.prepared.benchmark_prices[1]
        ):
            audit_enqueue(
                org_id=self.org_id,
                call_id=self.call_id,
                complexity=self.prepared.outcome.complexity,
            )

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
