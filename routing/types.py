"""Values that cross the routing boundary: the catalog snapshot, requests and decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from billing.types import Entitlement

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
    currency: str = "USD"

    def raw_cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        cost = self.input_cost_per_mtok * input_tokens + self.output_cost_per_mtok * output_tokens
        return cost / Decimal(1_000_000)


@dataclass(frozen=True)
class AssistantInfo:
    family: str
    name: str
    default_task_types: tuple[str, ...]
    system_prompt_tokens: int = 0  # what its system prompt adds to every request


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
class CellEstimate:
    """What the confidence matrix knows about one (model, task type, complexity)."""

    samples: float  # weighted: an audit counts 1, a thumbs up or down less
    mean_score: float
    poor_rate: float
    poor_low: float  # the poor rate's 95% interval
    poor_high: float
    escalate: bool = False

    def evidence(self) -> str:
        return (
            f"{self.samples:g} samples, mean score {self.mean_score:.2f}, poor "
            f"{self.poor_rate:.0%} (95% CI {self.poor_low:.0%}-{self.poor_high:.0%})"
        )


CellKey = tuple[str, str, str]  # (model slug, task type, complexity)


@dataclass(frozen=True)
class Catalog:
    """Everything routing reads from the database, loaded once and passed down."""

    models: tuple[ModelInfo, ...]  # active models only
    assistants: tuple[AssistantInfo, ...]  # enabled assistants only
    escalations: frozenset[tuple[str, str]] = frozenset()  # (model slug, task type)
    # The confidence matrix, rebuilt from shadow audits and feedback (routing/learning.py).
    cells: Mapping[CellKey, CellEstimate] = field(default_factory=dict)
    # USD per million input and output tokens of the benchmark model (gpt-4o by default).
    benchmark_prices: tuple[Decimal, Decimal] = (Decimal("2.50"), Decimal("10.00"))
    # Auto mode's bar (settings.AUTO_QUALITY_BAR): "relative", within routing.policy's
    # QUALITY_MARGIN of the strongest candidate, exploring; or "absolute", QUALITY_BAR by
    # complexity on the posterior, without exploring.
    quality_bar: str = "relative"

    def assistant(self, family: str) -> AssistantInfo | None:
        return next((a for a in self.assistants if a.family == family), None)

    def model(self, slug: str) -> ModelInfo | None:
        return next((m for m in self.models if m.slug == slug), None)


class ExclusionCode(StrEnum):
    """Why a model was not a candidate; the text beside it is for people."""

    NOT_IN_PLAN = "not_in_plan"
    PROVIDER_DOWN = "provider_down"
    NO_KEY = "no_key"
    NO_IMAGES = "no_images"
    CONTEXT = "context"
    ESCALATED = "escalated"
    OVER_BUDGET = "over_budget"
    OVER_CAP = "over_cap"
    RULE_SKIPPED = "rule_skipped"


class RefusalCode(StrEnum):
    """Why a decision has no model to call."""

    INSUFFICIENT_CREDITS = "insufficient_credits"
    BUDGET_CAP = "budget_cap"
    MODEL_NOT_ALLOWED = "model_not_allowed"
    MODEL_NOT_FOUND = "model_not_found"
    NO_ROUTE = "no_route"


@dataclass(frozen=True)
class Exclusion:
    model: str
    reason: str
    code: ExclusionCode


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
    refusal_code: RefusalCode | None = None
    exploring: bool = False  # auto mode tries a cheaper model still undecided for the cell

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
            "refusal_code": str(self.refusal_code) if self.refusal_code else None,
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
    """What the precheck found: the prompt's labels and risk; routing comes after it."""

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
    shield_us: int = 0
    classifier_us: int = 0
    # The shield's learned detector score, when it ran (rules that block skip it).
    detector_score: float | None = None


@dataclass(frozen=True)
class PrecheckInputs:
    """Everything the precheck and routing read for one prompt, built once by the caller so a
    preview (the chat page's hint, the precheck API) decides exactly as the send will."""

    prompt: str  # the latest user message
    entitlement: Entitlement  # with the organisation's credits read fresh
    catalog: Catalog
    rules: Sequence[RuleInfo] = ()
    context_tokens: int = 0  # what goes with the prompt: history and system messages
    assistant: str | None = None  # the caller's pick; None lets routing choose
    mode: str | None = None
    model: str | None = None  # an explicit model slug; None routes
    has_images: bool = False
    down_providers: frozenset[str] = frozenset()  # breakers in their cool-down
    system_prompt: bool = False  # the request goes with the assistant's system prompt
    max_output_tokens: int | None = None
    # A uniform draw in [0, 1) for auto mode's exploration; 1.0 (the default) never explores,
    # so previews and the precheck API show the choice the evidence makes.
    exploration_draw: float = 1.0


@dataclass(frozen=True)
class RoutePreview:
    """The precheck and what routing would do with it (no assistant or decision if blocked)."""

    outcome: PrecheckOutcome
    assistant: AssistantChoice | None
    decision: RouteDecision | None


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
    max_output_tokens: int | None = None  # the caller's max_tokens: the answer is no longer
    exploration_draw: float = 1.0  # PrecheckInputs.exploration_draw
