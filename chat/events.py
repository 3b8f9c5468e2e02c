"""What a chat yields, in order (precheck, route, deltas, usage, then done or error), and the
one JSON payload of each, shared by the `/api/ai/chat` SSE stream, the WebSocket and `/v1`.

Payloads carry credits only, never raw provider cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from routing.types import AssistantChoice, PrecheckOutcome, RouteDecision

CREDIT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PrecheckEvent:
    outcome: PrecheckOutcome
    assistant: AssistantChoice
    decision: RouteDecision


@dataclass(frozen=True)
class RouteEvent:
    decision: RouteDecision
    assistant: AssistantChoice
    model_name: str  # the chosen model's display name


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
    finish_reason: str  # "stop", or "length" when the output cap cut the answer
    conversation_id: int | None
    cached: bool = False  # served from the semantic cache; ask again with no-cache for fresh


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    code: str
    partial: bool  # True when some answer was already delivered (and billed)


ChatEvent = PrecheckEvent | RouteEvent | DeltaEvent | UsageEvent | DoneEvent | ErrorEvent


def credits_text(value: Decimal) -> str:
    """Credits as every API shows them: a Decimal string to four places."""
    return str(value.quantize(CREDIT_PLACES))


def precheck_payload(
    outcome: PrecheckOutcome,
    assistant: AssistantChoice | None = None,
    decision: RouteDecision | None = None,
) -> dict[str, Any]:
    """What a customer sees of a precheck: labels, risk, and the route in credits only."""
    route = decision.as_dict() if decision else None
    if route and decision:
        route["est_credits"] = credits_text(decision.est_credits)
    return {
        "prompt_sha256": outcome.prompt_sha256,
        "task_type": outcome.task_type,
        "complexity": outcome.complexity,
        "language": outcome.language,
        "needs_images": outcome.needs_images,
        "est_input_tokens": outcome.input_tokens,
        "risk_level": outcome.risk_level,
        "risk_categories": list(outcome.risk_categories),
        "blocked": outcome.blocked,
        "recommended_assistant": (
            {"family": assistant.family, "name": assistant.name, "reason": assistant.reason}
            if assistant
            else None
        ),
        "route": route,
    }


def event_payload(event: ChatEvent) -> tuple[str, dict[str, Any]]:
    """(event name, JSON payload) of one chat event."""
    match event:
        case PrecheckEvent(outcome, assistant, decision):
            return "precheck", precheck_payload(outcome, assistant, decision)
        case RouteEvent(decision, assistant, model_name):
            return "route", {
                "assistant": assistant.family,
                "assistant_name": assistant.name,
                "assistant_reason": assistant.reason,
                "model": decision.model,
                "model_name": model_name,
                "fallbacks": list(decision.fallbacks),
                "reason": decision.reason,
                "summary": f"{assistant.name} · {model_name}",
            }
        case DeltaEvent(text):
            return "delta", {"text": text}
        case UsageEvent(input_tokens, output_tokens, credits, incomplete):
            return "usage", {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "credits": credits_text(credits),
                "incomplete": incomplete,
            }
        case DoneEvent(model, request_id, finish_reason, conversation_id, cached):
            return "done", {
                "model": model,
                "request_id": request_id,
                "finish_reason": finish_reason,
                "conversation_id": conversation_id,
                "cached": cached,
            }
        case ErrorEvent(message, code, partial):
            return "error", {"message": message, "code": code, "partial": partial}
    raise TypeError(f"unknown event {event!r}")
