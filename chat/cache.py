"""The semantic cache on the chat path: embed the prompt once (while the limits and inputs
are fetched), look it up once the route and the turn's messages are known, serve a hit as a
stream in the usual events, billed once as a `cached` ModelCall, and keep a fresh answer.

The cache itself (keys, guards, entries) is routing's (`routing/cache/`); this module only
wires it into the chat.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.sql import sql_together
from billing.types import Entitlement
from chat.conversations import answer_store_sql
from chat.db import hot_rows, hot_run, hot_transaction
from chat.events import ChatEvent, DeltaEvent, DoneEvent, UsageEvent
from chat.providers.base import ChatMessage
from chat.snapshots import TenantSnapshot
from chat.types import ChatRequest, PreparedChat
from routing.cache.embedders import EmbedderError, Vector, embedder_get
from routing.cache.entries import entry_hit_sql
from routing.cache.guards import guard_features
from routing.cache.keys import CacheScope, cache_text, prompt_digest, scope_context
from routing.cache.lookup import (
    SKIPPED,
    CacheKey,
    CacheLookup,
    cache_lookup,
    cache_store,
)
from routing.policy import QUALITY_BAR
from routing.types import AssistantChoice, Catalog, ModelInfo, PrecheckOutcome, RouteDecision
from usage.models import CallStatus
from usage.services import CallOutcome, CallPrices, model_call_bill_sql, model_call_open_sql

logger = logging.getLogger(__name__)

# A cached answer streams in pieces of a few words, like a provider's deltas.
_PIECE = re.compile(r"\S+\s*|\s+")
WORDS_PER_DELTA = 4


def cache_skip_reason(request: ChatRequest, tenant: TenantSnapshot) -> str:
    """Why this request neither reads nor feeds the cache (checks needing no history); ""."""
    if not settings.SEMANTIC_CACHE_ENABLED:
        return "cache off"
    if not tenant.cache_enabled:
        return "organisation opted out"
    if not request.cache:
        return "Cache-Control: no-cache"
    if request.has_images:
        return "images"
    later_turn = request.product_chat and request.conversation_id is not None
    if later_turn and not settings.SEMANTIC_CACHE_CONVERSATIONS:
        return "not a first turn"
    return ""


def embedding_start(request: ChatRequest, tenant: TenantSnapshot) -> asyncio.Task[Vector | None]:
    """The prompt's embedding, computed once per request while its inputs are fetched."""
    return asyncio.ensure_future(_embed(request.prompt, skip=cache_skip_reason(request, tenant)))


async def _embed(prompt: str, *, skip: str) -> Vector | None:
    if skip:
        return None
    try:
        return await embedder_get().embed(cache_text(prompt))
    except EmbedderError as error:  # the answer goes on uncached
        logger.warning("semantic cache embedder failed: %s", error)
        return None


async def chat_cache_lookup(
    request: ChatRequest,
    *,
    embedding: asyncio.Task[Vector | None],
    outcome: PrecheckOutcome,
    assistant: AssistantChoice,
    decision: RouteDecision,
    messages: Sequence[ChatMessage],
    catalog: Catalog,
    entitlement: Entitlement,
) -> tuple[CacheLookup, CacheKey | None]:
    """The lookup of this request, and its key for the store after a miss."""
    vector = await embedding
    if vector is None:
        return SKIPPED, None
    earlier = [(m.role, m.content) for m in messages[:-1]]
    history = any(role != "system" for role, _ in earlier)
    if history and request.product_chat and not settings.SEMANTIC_CACHE_CONVERSATIONS:
        return SKIPPED, None  # history came from the conversation: not a first turn
    scope = CacheScope(
        family=assistant.family,
        context=scope_context(earlier),
        model=request.model or "",
        mode=decision.mode,
        quality_bar=f"{QUALITY_BAR.get(outcome.complexity, QUALITY_BAR['medium']):.2f}",
        language=outcome.language,
    )
    key = CacheKey(
        org_id=request.org.pk,
        scope=scope.digest(),
        prompt_sha256=prompt_digest(request.prompt),
        vector=vector,
        features=guard_features(request.prompt),
    )
    models = {m.model_id: m for m in catalog.models}

    def usable(model_id: int) -> bool:
        model = models.get(model_id)
        return model is not None and entitlement.allows_model(model.slug)

    return await cache_lookup(key=key, run=hot_run, usable=usable), key


def cached_model(lookup: CacheLookup, catalog: Catalog) -> ModelInfo | None:
    """The catalog's row of the model that wrote a hit's answer (`usable` checked it is there)."""
    if lookup.answer is None:
        return None
    return next((m for m in catalog.models if m.model_id == lookup.answer.model_id), None)


async def cached_answer_events(
    prepared: PreparedChat, model: ModelInfo, *, served: asyncio.Future[None] | None = None
) -> AsyncIterator[ChatEvent]:
    """A hit as a provider's answer would stream: deltas, usage, done. Its `cached`
    ModelCall is opened with the precheck record and billed once, even if the client leaves
    before the last delta (the whole answer was already on its way)."""
    answer, request = prepared.cache.answer, prepared.request
    assert answer is not None  # noqa: S101 - only a hit is served from the cache
    started = time.monotonic()
    call_id = await _open(prepared, model)
    billed: UsageEvent | None = None
    try:
        for piece in _pieces(answer.response):
            yield DeltaEvent(piece)
        billed = await _bill(prepared, model, call_id, started)
    finally:
        if billed is None:
            await asyncio.shield(_bill(prepared, model, call_id, started))
    yield billed
    yield DoneEvent(
        model=model.slug,
        request_id=request.request_id,
        finish_reason="stop",
        conversation_id=prepared.conversation_id,
        cached=True,
    )


def _pieces(text: str) -> list[str]:
    words = _PIECE.findall(text)
    return [
        "".join(words[i : i + WORDS_PER_DELTA]) for i in range(0, len(words), WORDS_PER_DELTA)
    ] or [text]


async def _open(prepared: PreparedChat, model: ModelInfo) -> int:
    request, lookup = prepared.request, prepared.cache
    why = f"cached answer ({lookup.result}, similarity {lookup.similarity or 0:.3f})"
    sql = model_call_open_sql(
        org_id=request.org.pk,
        user_id=request.user.pk,
        api_key_id=request.api_key_id,
        conversation_id=prepared.conversation_id,
        request_id=request.request_id,
        attempt=1,
        fallback_of_id=None,
        provider_id=model.provider_id,
        model_id=model.model_id,
        assistant_family=prepared.assistant.family,
        task_type=prepared.outcome.task_type,
        route_reasons=[why],
        deadline_at=timezone.now() + timedelta(seconds=settings.CHAT_DEADLINE_SECONDS),
        display_multiplier=prepared.entitlement.display_multiplier,
        end_user=request.end_user,
    )
    row = await hot_run(sql_together(prepared.precheck_record, sql))
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return int(row[0])


async def _bill(
    prepared: PreparedChat, model: ModelInfo, call_id: int, started: float
) -> UsageEvent:
    answer, request = prepared.cache.answer, prepared.request
    assert answer is not None  # noqa: S101 - only a hit is served from the cache
    elapsed = int((time.monotonic() - started) * 1000)
    outcome = CallOutcome(
        status=CallStatus.CACHED,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        latency_ms=elapsed,
        ttft_ms=elapsed,
        incomplete=False,
        finished_at=timezone.now(),
    )
    prices = CallPrices(
        input_cost_per_mtok=model.input_cost_per_mtok,
        output_cost_per_mtok=model.output_cost_per_mtok,
        multiplier=prepared.entitlement.display_multiplier,
        currency=model.currency,
        benchmark=prepared.benchmark_prices,
    )
    cost = prices.cached_cost(outcome, share=prepared.entitlement.cached_answer_share)
    bill = model_call_bill_sql(
        org_id=request.org.pk,
        call_id=call_id,
        request_id=request.request_id,
        outcome=outcome,
        cost=cost,
        currency=model.currency,
        model_slug=f"{model.slug} (cached)",
    )
    async with hot_transaction() as conn:
        billed = await hot_run(bill, conn)
        if prepared.conversation_id is not None:
            stored = answer_store_sql(
                org_id=request.org.pk,
                conversation_id=prepared.conversation_id,
                content=answer.response,
                model_call_id=call_id,
                incomplete=False,
            )
            await hot_run(stored, conn)
        await hot_run(entry_hit_sql(org_id=request.org.pk, entry_id=answer.entry_id), conn)
    credits = cost.display_cost if billed else Decimal(0)
    return UsageEvent(answer.input_tokens, answer.output_tokens, credits, False)


# The stores under way: a task is kept here until it ends (the loop holds only weak
# references to tasks), and `cache_stores_drain` waits for them. A store still under way
# when the process stops is lost: the next miss of that prompt stores it.
_STORING: set[asyncio.Task[None]] = set()


class CacheFeed:
    """Watches a provider's answer go by and, once it completed (stop, not cut), keeps it
    after the answer is delivered: `keep` only schedules the store, so the request never
    waits for its embedding's INSERT, and it schedules it once at most."""

    def __init__(self, prepared: PreparedChat) -> None:
        self.prepared = prepared
        self.text: list[str] = []
        self.usage: UsageEvent | None = None
        self.storing: asyncio.Task[None] | None = None

    def see(self, event: ChatEvent) -> None:
        if isinstance(event, DeltaEvent):
            self.text.append(event.text)
        elif isinstance(event, UsageEvent):
            self.usage = event

    def keep(self, done: DoneEvent) -> asyncio.Task[None] | None:
        """Schedule the store of a completed answer; None when there is nothing to keep
        or it was already scheduled."""
        key, usage = self.prepared.cache_key, self.usage
        if self.storing is not None or key is None or usage is None:
            return None
        if usage.incomplete or done.finish_reason != "stop" or not self.text:
            return None
        model = next((t for t in self.prepared.targets if t.slug == done.model), None)
        if model is None:
            return None
        store = _store(key, "".join(self.text), model.model_id, usage)
        self.storing = asyncio.ensure_future(store)
        _STORING.add(self.storing)
        self.storing.add_done_callback(_STORING.discard)
        return self.storing


async def _store(key: CacheKey, response: str, model_id: int, usage: UsageEvent) -> None:
    try:
        await cache_store(
            key=key,
            response=response,
            model_id=model_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            run=hot_run,
            run_rows=hot_rows,
        )
    except Exception:  # the answer was delivered and billed: a failed store loses nothing
        logger.exception("semantic cache store failed")


async def cache_stores_drain() -> None:
    """Wait for the stores this process has under way."""
    while _STORING:
        await asyncio.gather(*list(_STORING), return_exceptions=True)


def cache_header(lookup: CacheLookup) -> dict[str, str]:
    """What the HTTP APIs say about the cache: the lookup's result."""
    return {"X-Switchboard-Cache": str(lookup.result)}
