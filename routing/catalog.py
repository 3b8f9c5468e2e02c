"""The platform catalog (providers, models, assistant families) and `catalog_seed()`.

Prices are list prices in USD per million tokens, taken on 2026-11-21 from the pages named in
each model's `pricing_source` (OpenAI's pricing page, Anthropic's model overviews, and
OpenRouter's model pages for models served through OpenRouter). Providers change prices and
retire models often: operators must verify every price before billing real customers, and
update this file (not the database) so a re-seed does not undo the correction.

Known lifecycle dates at the time of writing:
- openai/gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4.1-mini shut down in OpenAI's API on
  2027-01-14 (OpenAI recommends gpt-6-luna / gpt-6.1-sol). gpt-4o stays here because it is the
  benchmark model for FinOps savings.
- google/gemini-2.5-flash is retired from Google's Gemini API on 2026-12-01.
- Anthropic retired Claude Sonnet 4 (claude-sonnet-4-20250514) on 2026-06-15, so the Sonnet
  entry is the current Claude Sonnet 5.5; Claude Haiku 4.5 is a legacy model, still served.

Tiered prices (Gemini and GPT-6 above 200-272k prompt tokens) are not modelled: the catalog
holds the base tier. Simulator models mirror real prices (economy = gpt-4o-mini,
standard = gpt-4.1-mini, frontier = gpt-4o) so demo costs look real.

Quality priors are 0..1 guesses per task type, refined by shadow audits (ConfidenceCell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from billing.catalog import SeedCounts, catalog_row_upsert
from routing.models import (
    AIModel,
    Assistant,
    LatencyTier,
    ModelProvider,
    ProviderKind,
    ProviderStatus,
)
from routing.services import PRICE_FIELDS, aimodel_prices_changed
from routing.types import TASK_TYPES

CHECKED = "checked 2026-11-21"


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    name: str
    kind: str
    api_base: str
    key_env: str
    priority: int


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    slug: str
    display_name: str
    context_window: int
    max_output_tokens: int
    supports_images: bool
    input_cost_per_mtok: Decimal
    output_cost_per_mtok: Decimal
    latency_tier: str
    quality: Mapping[str, float]
    pricing_source: str


@dataclass(frozen=True)
class AssistantSpec:
    family: str
    name: str
    description: str
    default_task_types: tuple[str, ...]
    system_prompt: str


@dataclass(frozen=True)
class CatalogSeedResult:
    providers: SeedCounts
    models: SeedCounts
    assistants: SeedCounts

    @property
    def total(self) -> SeedCounts:
        return self.providers + self.models + self.assistants


def quality(base: float, **by_task: float) -> dict[str, float]:
    """A prior for every task type: `base` unless a task type is named."""
    unknown = set(by_task) - set(TASK_TYPES)
    if unknown:
        raise ValueError(f"Unknown task types: {sorted(unknown)}")
    return {task: by_task.get(task, base) for task in TASK_TYPES}


def provider_specs() -> tuple[ProviderSpec, ...]:
    """The providers; a function because the simulator's address comes from settings."""
    return (
        ProviderSpec(
            slug="openrouter",
            name="OpenRouter",
            kind=ProviderKind.OPENAI_COMPATIBLE,
            api_base="https://openrouter.ai/api/v1",
            key_env="OPENROUTER_API_KEY",
            priority=10,
        ),
        ProviderSpec(
            slug="anthropic",
            name="Anthropic",
            kind=ProviderKind.ANTHROPIC,
            api_base="https://api.anthropic.com",
            key_env="ANTHROPIC_API_KEY",
            priority=20,
        ),
        ProviderSpec(
            slug="simulator",
            name="Simulator",
            kind=ProviderKind.SIMULATOR,
            api_base=settings.SIMULATOR_URL,
            key_env="",
            priority=90,
        ),
    )


OPENAI_PRICING = f"https://platform.openai.com/docs/pricing (same price via OpenRouter; {CHECKED})"
SIM_SOURCE = "Simulator: mirrors {} list price (see that model's source)"

REAL_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider="openrouter",
        slug="openai/gpt-4o",
        display_name="GPT-4o",
        context_window=128_000,
        max_output_tokens=16_384,
        supports_images=True,
        input_cost_per_mtok=Decimal("2.50"),
        output_cost_per_mtok=Decimal("10.00"),
        latency_tier=LatencyTier.STANDARD,
        quality=quality(
            0.86, coding=0.84, math=0.78, reasoning=0.82, chat=0.88, creative_writing=0.86
        ),
        pricing_source=OPENAI_PRICING,
    ),
    ModelSpec(
        provider="openrouter",
        slug="openai/gpt-4o-mini",
        display_name="GPT-4o mini",
        context_window=128_000,
        max_output_tokens=16_384,
        supports_images=True,
        input_cost_per_mtok=Decimal("0.15"),
        output_cost_per_mtok=Decimal("0.60"),
        latency_tier=LatencyTier.FAST,
        quality=quality(
            0.74,
            coding=0.68,
            math=0.62,
            reasoning=0.64,
            creative_writing=0.70,
            extraction=0.80,
            classification=0.82,
            chat=0.80,
        ),
        pricing_source=OPENAI_PRICING,
    ),
    ModelSpec(
        provider="openrouter",
        slug="openai/gpt-4.1",
        display_name="GPT-4.1",
        context_window=1_047_576,
        max_output_tokens=32_768,
        supports_images=True,
        input_cost_per_mtok=Decimal("2.00"),
        output_cost_per_mtok=Decimal("8.00"),
        latency_tier=LatencyTier.STANDARD,
        quality=quality(
            0.87, coding=0.90, math=0.82, reasoning=0.84, extraction=0.92, classification=0.90
        ),
        pricing_source=OPENAI_PRICING,
    ),
    ModelSpec(
        provider="openrouter",
        slug="openai/gpt-4.1-mini",
        display_name="GPT-4.1 mini",
        context_window=1_047_576,
        max_output_tokens=32_768,
        supports_images=True,
        input_cost_per_mtok=Decimal("0.40"),
        output_cost_per_mtok=Decimal("1.60"),
        latency_tier=LatencyTier.FAST,
        quality=quality(
            0.80,
            coding=0.82,
            math=0.76,
            reasoning=0.76,
            creative_writing=0.76,
            extraction=0.86,
            classification=0.86,
        ),
        pricing_source=OPENAI_PRICING,
    ),
    ModelSpec(
        provider="openrouter",
        slug="google/gemini-2.5-flash",
        display_name="Gemini 2.5 Flash",
        context_window=1_048_576,
        max_output_tokens=65_536,
        supports_images=True,
        input_cost_per_mtok=Decimal("0.30"),
        output_cost_per_mtok=Decimal("2.50"),
        latency_tier=LatencyTier.FAST,
        quality=quality(
            0.82, coding=0.80, math=0.84, translation=0.86, creative_writing=0.76, chat=0.80
        ),
        pricing_source=(
            f"https://openrouter.ai/google/gemini-2.5-flash (GA price since 2025-06-17; {CHECKED};"
            " Gemini API retires it 2026-12-01)"
        ),
    ),
    ModelSpec(
        provider="openrouter",
        slug="meta-llama/llama-3.3-70b-instruct",
        display_name="Llama 3.3 70B Instruct",
        context_window=131_072,
        max_output_tokens=16_384,
        supports_images=False,
        input_cost_per_mtok=Decimal("0.10"),
        output_cost_per_mtok=Decimal("0.32"),
        latency_tier=LatencyTier.STANDARD,
        quality=quality(
            0.72,
            coding=0.66,
            math=0.62,
            reasoning=0.66,
            summarization=0.76,
            translation=0.74,
            classification=0.78,
            chat=0.78,
        ),
        pricing_source=(
            f"https://openrouter.ai/meta-llama/llama-3.3-70b-instruct (lowest listed; {CHECKED})"
        ),
    ),
    ModelSpec(
        provider="openrouter",
        slug="deepseek/deepseek-chat-v3-0324",
        display_name="DeepSeek V3 0324",
        context_window=163_840,
        max_output_tokens=16_384,
        supports_images=False,
        input_cost_per_mtok=Decimal("0.20"),
        output_cost_per_mtok=Decimal("0.77"),
        latency_tier=LatencyTier.SLOW,
        quality=quality(
            0.80, coding=0.88, math=0.86, reasoning=0.82, translation=0.78, creative_writing=0.74
        ),
        pricing_source=(
            "https://openrouter.ai/deepseek/deepseek-chat-v3-0324 (listed 2026-04/05;"
            f" $0.27/$1.10 when launched 2025-03-24; {CHECKED})"
        ),
    ),
    ModelSpec(
        provider="anthropic",
        slug="claude-sonnet-5-5",
        display_name="Claude Sonnet 5.5",
        context_window=1_000_000,
        max_output_tokens=128_000,
        supports_images=True,
        input_cost_per_mtok=Decimal("2.00"),
        output_cost_per_mtok=Decimal("10.00"),
        latency_tier=LatencyTier.STANDARD,
        quality=quality(
            0.93, coding=0.97, reasoning=0.94, math=0.91, creative_writing=0.94, translation=0.92
        ),
        pricing_source=(
            "https://platform.claude.com/docs/en/models/sonnet-5-5/overview"
            f" (released 2026-09; {CHECKED})"
        ),
    ),
    ModelSpec(
        provider="anthropic",
        slug="claude-haiku-4-5-20251001",
        display_name="Claude Haiku 4.5",
        context_window=200_000,
        max_output_tokens=64_000,
        supports_images=True,
        input_cost_per_mtok=Decimal("1.00"),
        output_cost_per_mtok=Decimal("5.00"),
        latency_tier=LatencyTier.FAST,
        quality=quality(0.83, coding=0.86, math=0.78, reasoning=0.80, creative_writing=0.80),
        pricing_source=(
            "https://platform.claude.com/docs/en/models/haiku-4-5/overview"
            f" (released 2025-10-15, legacy; {CHECKED})"
        ),
    ),
)

SIMULATOR_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider="simulator",
        slug="sim/economy",
        display_name="Simulator Economy",
        context_window=128_000,
        max_output_tokens=16_384,
        supports_images=False,
        input_cost_per_mtok=Decimal("0.15"),
        output_cost_per_mtok=Decimal("0.60"),
        latency_tier=LatencyTier.FAST,
        quality=quality(
            0.66,
            coding=0.55,
            math=0.50,
            reasoning=0.52,
            summarization=0.70,
            translation=0.68,
            creative_writing=0.60,
            extraction=0.72,
            classification=0.76,
            chat=0.74,
        ),
        pricing_source=SIM_SOURCE.format("openai/gpt-4o-mini"),
    ),
    ModelSpec(
        provider="simulator",
        slug="sim/standard",
        display_name="Simulator Standard",
        context_window=128_000,
        max_output_tokens=32_768,
        supports_images=True,
        input_cost_per_mtok=Decimal("0.40"),
        output_cost_per_mtok=Decimal("1.60"),
        latency_tier=LatencyTier.STANDARD,
        quality=quality(
            0.79, coding=0.76, math=0.72, reasoning=0.74, extraction=0.84, classification=0.84
        ),
        pricing_source=SIM_SOURCE.format("openai/gpt-4.1-mini"),
    ),
    ModelSpec(
        provider="simulator",
        slug="sim/frontier",
        display_name="Simulator Frontier",
        context_window=200_000,
        max_output_tokens=32_768,
        supports_images=True,
        input_cost_per_mtok=Decimal("2.50"),
        output_cost_per_mtok=Decimal("10.00"),
        latency_tier=LatencyTier.SLOW,
        quality=quality(0.92, coding=0.93, math=0.90, reasoning=0.93),
        pricing_source=SIM_SOURCE.format("openai/gpt-4o"),
    ),
)

MODELS: tuple[ModelSpec, ...] = REAL_MODELS + SIMULATOR_MODELS

# The five families split the ten task types between them, so every task type has one home.
ASSISTANTS: tuple[AssistantSpec, ...] = (
    AssistantSpec(
        family="coder",
        name="Coder",
        description="Writes, explains, reviews and debugs code.",
        default_task_types=("coding",),
        system_prompt=(
            "You are Coder, a careful senior software engineer. Give working, idiomatic code "
            "with short explanations, point out edge cases and security issues, and say when "
            "you are unsure instead of guessing."
        ),
    ),
    AssistantSpec(
        family="analyst",
        name="Analyst",
        description="Reasons step by step, extracts structured data and classifies text.",
        default_task_types=("reasoning", "extraction", "classification"),
        system_prompt=(
            "You are Analyst. Reason step by step, state your assumptions, and return "
            "structured, verifiable answers (tables or JSON when asked). Never invent data."
        ),
    ),
    AssistantSpec(
        family="writer",
        name="Writer",
        description="Drafts, edits and summarises prose in the tone you ask for.",
        default_task_types=("creative_writing", "summarization"),
        system_prompt=(
            "You are Writer, a skilled editor. Match the requested tone and length, keep "
            "summaries faithful to the source, and prefer clear, concrete language."
        ),
    ),
    AssistantSpec(
        family="tutor",
        name="Tutor",
        description="Teaches maths and languages patiently, one step at a time.",
        default_task_types=("math", "translation"),
        system_prompt=(
            "You are Tutor, a patient teacher. Explain one step at a time, check understanding, "
            "show your working in maths, and explain word choices when you translate."
        ),
    ),
    AssistantSpec(
        family="generalist",
        name="Generalist",
        description="Everyday questions and conversation.",
        default_task_types=("chat", "question_answering"),
        system_prompt=(
            "You are a helpful, friendly assistant. Answer clearly and concisely, and say so "
            "when you do not know."
        ),
    ),
)


def _model_defaults(spec: ModelSpec, provider: ModelProvider) -> dict[str, Any]:
    return {
        "provider": provider,
        "display_name": spec.display_name,
        "context_window": spec.context_window,
        "max_output_tokens": spec.max_output_tokens,
        "supports_images": spec.supports_images,
        "input_cost_per_mtok": spec.input_cost_per_mtok,
        "output_cost_per_mtok": spec.output_cost_per_mtok,
        "currency": "USD",
        "latency_tier": spec.latency_tier,
        "quality": dict(spec.quality),
        "pricing_source": spec.pricing_source,
    }


def _providers_seed() -> tuple[SeedCounts, dict[str, ModelProvider]]:
    counts = SeedCounts()
    for spec in provider_specs():
        outcome = catalog_row_upsert(
            ModelProvider,
            lookup={"slug": spec.slug},
            defaults={
                "name": spec.name,
                "kind": spec.kind,
                "api_base": spec.api_base,
                "key_env": spec.key_env,
            },
            # Health checks and staff own status and priority once the provider exists.
            create_defaults={"status": ProviderStatus.ACTIVE, "priority": spec.priority},
        )
        counts = counts.add(outcome)
    return counts, {p.slug: p for p in ModelProvider.objects.all()}


def _models_seed(providers: Mapping[str, ModelProvider]) -> SeedCounts:
    counts = SeedCounts()
    for spec in MODELS:
        prices = AIModel.objects.filter(slug=spec.slug).values_list(*PRICE_FIELDS).first()
        outcome = catalog_row_upsert(
            AIModel,
            lookup={"slug": spec.slug},
            defaults=_model_defaults(spec, providers[spec.provider]),
            # Set on creation only: a model staff deactivated stays deactivated.
            create_defaults={"active": True},
        )
        if outcome == "updated" and prices is not None:
            _cached_answers_repriced(spec.slug, prices)
        counts = counts.add(outcome)
    return counts


def _cached_answers_repriced(slug: str, before: tuple[Any, ...]) -> None:
    """A re-seed that changed a model's prices drops its cached answers, as an admin edit does."""
    model = AIModel.objects.get(slug=slug)
    now = [getattr(model, name) for name in PRICE_FIELDS]
    changed = [name for name, old, new in zip(PRICE_FIELDS, before, now, strict=True) if old != new]
    aimodel_prices_changed(model=model, changed=changed)


def _assistants_seed() -> SeedCounts:
    counts = SeedCounts()
    for spec in ASSISTANTS:
        outcome = catalog_row_upsert(
            Assistant,
            lookup={"family": spec.family},
            defaults={
                "name": spec.name,
                "description": spec.description,
                "default_task_types": list(spec.default_task_types),
                "system_prompt": spec.system_prompt,
            },
            create_defaults={"enabled": True},
        )
        counts = counts.add(outcome)
    return counts


def catalog_seed() -> CatalogSeedResult:
    """Write providers, models and assistants, keyed by slug/family, in one transaction.

    Idempotent: a second run changes no row. Fields staff own after creation (model
    `active`, assistant `enabled`, provider `status` and `priority`) are set on creation only.
    """
    with transaction.atomic():
        providers, by_slug = _providers_seed()
        return CatalogSeedResult(
            providers=providers,
            models=_models_seed(by_slug),
            assistants=_assistants_seed(),
        )
