"""Values that cross the routing boundary: the catalog snapshot, requests and decisions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

TASK_TYPES = (
    "coding",
    "math",
    "reasoning",
    "summarization",
    "translation",
    "creative_writing",
    "extraction",
    "classification",
    "chat",
    "question_answering",
)


@dataclass(frozen=True)
class ModelInfo:
    slug: str
    display_name: str
    provider: str
    provider_status: str
    context_window: int
    supports_images: bool
    input_cost_per_mtok: Decimal
    output_cost_per_mtok: Decimal
    latency_tier: str
    quality: dict[str, float]
    # Where to call it; defaults keep hand-made catalogs in tests short.
    model_id: int = 0
    provider_id: int = 0
    provider_kind: str = "openai_compatible"
    api_base: str = ""
    key_env: str = ""
    key_configured: bool = True  # False: key_env names a variable that is not set

    def raw_cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        cost = self.input_cost_per_mtok * input_tokens + self.output_cost_per_mtok * output_tokens
        return cost / Decimal(1_000_000)


@dataclass(frozen=True)
class AssistantInfo:
    family: str
    name: str
    default_task_types: tuple[str, ...]


@dataclass(frozen=True)
class RuleInfo:
    id: int
    order: int
    name: str
    organization_id: int | None
    conditions: dict[str, Any]
    target_model: str | None
    target_family: str
    mode: str


@dataclass(frozen=True)
class Catalog:
    """Everything routing reads from the database, loaded once and passed down."""

    models: tuple[ModelInfo, ...]  # active models only
    assistants: tuple[AssistantInfo, ...]  # enabled assistants only
    escalations: frozenset[tuple[str, str]] = frozenset()  # (model slug, task type)

    def assistant(self, family: str) -> AssistantInfo | None:
        return next((a for a in self.assistants if a.family == family), None)


@dataclass(frozen=True)
class Exclusion:
    model: str
    reason: str


@dataclass(frozen=True)
class RouteDecision:
    model: str | None
    provider: str | None
    fallbacks: tuple[str, ...]
    mode: str
    reason: str
    exclusions: tuple[Exclusion, ...]
    input_tokens: int
    output_tokens: int
    est_cost_raw: Decimal
    est_credits: Decimal
    rule: str | None = None
    refusal: str | None = None  # why nothing can be called (budget, no candidate)
    refusal_code: str | None = None

    def as_dict(self, *, include_raw: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "provider": self.provider,
            "fallbacks": list(self.fallbacks),
            "mode": self.mode,
            "reason": self.reason,
            "rule": self.rule,
            "exclusions": [{"model": e.model, "reason": e.reason} for e in self.exclusions],
            "est_input_tokens": self.input_tokens,
            "est_output_tokens": self.output_tokens,
            "est_credits": str(self.est_credits),
            "refusal": self.refusal,
            "refusal_code": self.refusal_code,
        }
        if include_raw:
            data["est_cost_raw"] = str(self.est_cost_raw)
        return data


@dataclass(frozen=True)
class AssistantChoice:
    family: str
    name: str
    reason: str


@dataclass(frozen=True)
class PrecheckOutcome:
    prompt_sha256: str
    task_type: str
    complexity: str
    language: str
    needs_images: bool
    input_tokens: int
    risk_level: str
    risk_categories: tuple[str, ...]
    rule_ids: tuple[str, ...]
    blocked: bool
    refusal: str | None  # shield or category-filter message when blocked
    assistant: AssistantChoice | None
    decision: RouteDecision | None
    shield_us: int = 0
    classifier_us: int = 0


@dataclass(frozen=True)
class RouteRequest:
    task_type: str
    complexity: str
    assistant: str
    input_tokens: int
    needs_images: bool = False
    language: str = "en"
    mode: str = "auto"
    model: str | None = None  # an explicit model slug from the caller; routing honours it
