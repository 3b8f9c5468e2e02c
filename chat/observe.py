"""What the chat path reports about itself: Prometheus samples and one log event per stage
(precheck, route, each attempt, the bill). Each call is a few counter updates and at most one
log record, so the hot path pays microseconds for it."""

from __future__ import annotations

import logging
from decimal import Decimal

from accounts.errors import ApplicationError
from accounts.logs import log_event
from accounts.metrics import (
    CACHE_LOOKUPS,
    CHAT_REQUESTS,
    FALLBACKS,
    PROVIDER_LATENCY,
    PROVIDER_REQUESTS,
    RAW_COST_USD,
    TIME_TO_FIRST_TOKEN,
    TOKENS,
)
from chat.limits import RateLimited
from routing.errors import PromptBlocked
from routing.types import ModelInfo, PrecheckOutcome, RouteDecision

logger = logging.getLogger("switchboard.chat")

NO_TASK = "unknown"  # a chat refused before its precheck finished


def chat_counted(outcome: str, task_type: str) -> None:
    """Count one chat by how it ended: ok, blocked, limited, refused, error or cached."""
    CHAT_REQUESTS.labels(outcome, task_type or NO_TASK).inc()
    log_event(logger, "chat.end", outcome=outcome, task_type=task_type or NO_TASK)


def cache_lookup_counted(result: str) -> None:
    """Count one answer-cache lookup: hit_exact, hit_semantic, miss, guarded or skipped."""
    CACHE_LOOKUPS.labels(result).inc()


def refusal_outcome(error: BaseException) -> str:
    """How a chat that never reached a provider ended (a blocked prompt is counted where it
    is blocked, with its task type)."""
    if isinstance(error, PromptBlocked):
        return "blocked"
    if isinstance(error, RateLimited):
        return "limited"
    if isinstance(error, ApplicationError):
        return "refused"
    return "error"


def precheck_logged(outcome: PrecheckOutcome) -> None:
    log_event(
        logger,
        "chat.precheck",
        task_type=outcome.task_type,
        complexity=outcome.complexity,
        risk_level=outcome.risk_level,
        risk_categories=list(outcome.risk_categories),
        rule_ids=list(outcome.rule_ids),
        blocked=outcome.blocked,
    )


def route_logged(decision: RouteDecision) -> None:
    log_event(
        logger,
        "chat.route",
        model=decision.model,
        provider=decision.provider,
        mode=decision.mode,
        fallbacks=list(decision.fallbacks),
        excluded=len(decision.exclusions),
        refusal=decision.refusal_code and str(decision.refusal_code),
    )


def attempt_observed(
    target: ModelInfo,
    *,
    attempt: int,
    status: str,
    seconds: float,
    ttft_seconds: float | None,
    error_kind: str = "",
) -> None:
    """One provider attempt ended (succeeded, failed or cancelled)."""
    provider, model = target.provider, target.slug
    PROVIDER_REQUESTS.labels(provider, model, status).inc()
    PROVIDER_LATENCY.labels(provider, model).observe(seconds)
    if ttft_seconds is not None:
        TIME_TO_FIRST_TOKEN.labels(provider, model).observe(ttft_seconds)
    log_event(
        logger,
        "chat.attempt",
        attempt=attempt,
        provider=provider,
        model=model,
        status=status,
        latency_ms=int(seconds * 1000),
        ttft_ms=None if ttft_seconds is None else int(ttft_seconds * 1000),
        error_kind=error_kind or None,
    )


def fallback_counted(provider: str) -> None:
    """The request left `provider` (it failed, or its breaker is open) for the next target."""
    FALLBACKS.labels(provider).inc()


def bill_observed(
    model: str, *, input_tokens: int, output_tokens: int, raw_cost: Decimal, credits: Decimal
) -> None:
    TOKENS.labels("input", model).inc(input_tokens)
    TOKENS.labels("output", model).inc(output_tokens)
    RAW_COST_USD.labels(model).inc(float(raw_cost))  # a sample, not money: Prometheus is float
    log_event(
        logger,
        "chat.billed",
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        credits=str(credits),
    )
