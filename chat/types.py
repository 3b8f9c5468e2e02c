"""The values a chat passes from step to step: the request as parsed, and the chat prepared to
stream. Both are frozen: each step returns what it found instead of patching what it was given."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Organization, User
from accounts.sql import Sql
from billing.types import Entitlement
from chat.limits import StreamSlot
from chat.providers.base import ChatMessage
from chat.providers.breaker import BreakerView
from routing.cache.lookup import SKIPPED, CacheKey, CacheLookup
from routing.types import AssistantChoice, ModelInfo, PrecheckOutcome, RouteDecision, RoutePreview


@dataclass(frozen=True)
class ChatRequest:
    """One chat as a caller sent it: nothing below the views sees raw JSON."""

    org: Organization
    user: User
    api_key_id: int | None
    messages: tuple[ChatMessage, ...]  # the new turn(s); history is added from the conversation
    request_id: str = ""  # empty for a preview, which is never sent
    request_id_given: bool = False  # the client's Idempotency-Key, so it may be a replay
    assistant: str | None = None
    mode: str | None = None
    model: str | None = None  # an explicit model slug; None routes
    max_tokens: int | None = None
    temperature: float | None = None
    conversation_id: int | None = None
    has_images: bool = False
    # Tokens reach the client as they come (False: one answer at the end, so nothing was
    # delivered until the bill and no progress needs recording on the way).
    streamed: bool = True
    # Our own chat (the API and the browser) keeps conversations and speaks with the
    # assistant's system prompt; /v1 callers are stateless and bring their own.
    product_chat: bool = True
    end_user: str = ""  # the customer's own user (/v1's `user`), for FinOps attribution
    cache: bool = True  # False: `Cache-Control: no-cache` or "ask again fresh"

    @property
    def prompt(self) -> str:
        """The latest user message: what the precheck reads."""
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


@dataclass(frozen=True)
class PreparedChat:
    """A chat that passed every check, holding a stream slot, ready to call its models."""

    request: ChatRequest
    outcome: PrecheckOutcome
    assistant: AssistantChoice
    decision: RouteDecision
    entitlement: Entitlement
    targets: tuple[ModelInfo, ...]  # the chosen model, then the fallbacks, in order
    benchmark_prices: tuple[Decimal, Decimal]  # USD per million tokens, for FinOps
    provider_messages: tuple[ChatMessage, ...]
    breakers: BreakerView
    conversation_id: int | None
    slot: StreamSlot
    deadline: float  # time.monotonic() by which the whole request must end
    precheck_record: Sql  # the PromptCheck row, not yet written
    cache: CacheLookup = SKIPPED  # a hit is served instead of calling the targets
    cache_key: CacheKey | None = None  # set when a fresh answer may be kept
    cache_model: ModelInfo | None = None  # the model that wrote a hit's answer

    @property
    def preview(self) -> RoutePreview:
        return RoutePreview(self.outcome, self.assistant, self.decision)
