"""A fresh answer is stored after it was delivered, off the request, and once: the chat path's
CacheFeed against the real PostgreSQL (its async pool) and Valkey."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, cast

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache

from accounts.redis import redis_async_close
from chat.cache import CacheFeed, cache_stores_drain
from chat.db import hot_pool_close
from chat.events import DeltaEvent, DoneEvent, UsageEvent
from chat.types import PreparedChat
from routing.cache.embedders import WordLlamaEmbedder, embedder_get
from routing.cache.guards import guard_features
from routing.cache.keys import CacheScope, cache_text, prompt_digest
from routing.cache.lookup import CacheKey
from routing.models import SemanticCacheEntry
from routing.types import ModelInfo
from tests.accounts.factories import OrganizationFactory
from tests.routing.factories import AIModelFactory

# The store runs on the chat path's own pool: its rows must be committed to be seen.
pytestmark = pytest.mark.django_db(transaction=True)
QUESTION = "How do I reverse a string in Python?"


@pytest.fixture(autouse=True)
def _fresh_valkey() -> None:
    cache.clear()


def prepared_for(org_id: int, model_id: int, slug: str) -> PreparedChat:
    """A prepared chat with what the feed reads (its key and targets); the rest is unused."""
    embedder = embedder_get()
    assert isinstance(embedder, WordLlamaEmbedder)
    key = CacheKey(
        org_id=org_id,
        scope=CacheScope("generalist", (), "", "auto", "0.70", "en").digest(),
        prompt_sha256=prompt_digest(QUESTION),
        vector=embedder.embed_now(cache_text(QUESTION)),
        features=guard_features(QUESTION),
    )
    target = ModelInfo(
        slug, slug, "sim", "healthy", 8000, False, Decimal(1), Decimal(2), "fast", {},
        model_id=model_id,
    )  # fmt: skip
    unused = cast(Any, None)
    return PreparedChat(
        request=unused, outcome=unused, assistant=unused, decision=unused,
        entitlement=unused, targets=(target,), benchmark_prices=(Decimal(0), Decimal(0)),
        provider_messages=(), breakers=unused, conversation_id=None, slot=unused,
        deadline=0.0, precheck_record=unused, cache_key=key,
    )  # fmt: skip


def answered(prepared: PreparedChat, slug: str) -> tuple[CacheFeed, DoneEvent]:
    feed = CacheFeed(prepared)
    for event in (DeltaEvent("Use "), DeltaEvent("s[::-1]."), UsageEvent(9, 5, Decimal(1), False)):
        feed.see(event)
    return feed, DoneEvent(model=slug, request_id="r1", finish_reason="stop", conversation_id=None)


def count(org_id: int) -> int:
    return SemanticCacheEntry.objects.filter(organization_id=org_id).count()


def test_the_store_is_scheduled_not_awaited_and_happens_once() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    prepared = prepared_for(org.pk, model.pk, model.slug)
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        feed, done = answered(prepared, model.slug)
        task = feed.keep(done)
        # keep() returned before its store ran: the caller goes on with its answer at once.
        seen["pending"] = task is not None and not task.done()
        seen["again"] = feed.keep(done)  # a second Done never stores twice
        await cache_stores_drain()
        await hot_pool_close()
        await redis_async_close()

    async_to_sync(scenario)()

    assert (seen["pending"], seen["again"]) == (True, None)
    [entry] = SemanticCacheEntry.objects.filter(organization_id=org.pk)
    assert (entry.response, entry.input_tokens, entry.output_tokens) == ("Use s[::-1].", 9, 5)


def test_two_requests_that_missed_at_once_store_the_answer_once() -> None:
    org, model = OrganizationFactory(), AIModelFactory()

    async def scenario() -> None:
        feeds = [answered(prepared_for(org.pk, model.pk, model.slug), model.slug)]
        feeds.append(answered(prepared_for(org.pk, model.pk, model.slug), model.slug))
        tasks = [feed.keep(done) for feed, done in feeds]
        assert all(t is not None for t in tasks)
        await asyncio.gather(*[t for t in tasks if t is not None])
        await hot_pool_close()
        await redis_async_close()

    async_to_sync(scenario)()

    assert count(org.pk) == 1


def test_a_cut_answer_is_not_stored() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    prepared = prepared_for(org.pk, model.pk, model.slug)
    feed = CacheFeed(prepared)
    feed.see(DeltaEvent("Use "))
    feed.see(UsageEvent(9, 1, Decimal(1), True))

    scheduled = feed.keep(DoneEvent(model.slug, "r1", "length", None))

    assert scheduled is None
    assert count(org.pk) == 0
