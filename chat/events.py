"""What a chat yields, in order: precheck, route, deltas, usage, then done or error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from routing.types import AssistantChoice, PrecheckOutcome, RouteDecision


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
