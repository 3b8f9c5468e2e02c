from __future__ import annotations

import os
from decimal import Decimal

from django.conf import settings

from accounts.models import Organization
from routing.models import AIModel, Assistant, ConfidenceCell, RoutingRule
from routing.precheck.classifier import estimate_tokens
from routing.types import AssistantInfo, Catalog, CellEstimate, CellKey, ModelInfo, RuleInfo

BENCHMARK_MODEL_SLUG = "openai/gpt-4o"
BENCHMARK_FALLBACK_PRICES = (Decimal("2.50"), Decimal("10.00"))  # gpt-4o's list prices
# A pair is escalated only on enough evidence; see ConfidenceCell.
ESCALATION_MIN_SAMPLES = 20


def catalog_get() -> Catalog:
    """Active models (with their provider's status), enabled assistants and escalations."""
    models = tuple(
        ModelInfo(
            slug=m.slug,
            display_name=m.display_name,
            provider=m.provider.slug,
            provider_status=m.provider.status,
            context_window=m.context_window,
            supports_images=m.supports_images,
            input_cost_per_mtok=m.input_cost_per_mtok,
            output_cost_per_mtok=m.output_cost_per_mtok,
            latency_tier=m.latency_tier,
            quality=dict(m.quality),
            model_id=m.pk,
            provider_id=m.provider_id,
            provider_kind=m.provider.kind,
            api_base=m.provider.api_base,
            key_env=m.provider.key_env,
            key_configured=not m.provider.key_env or bool(os.environ.get(m.provider.key_env)),
            currency=m.currency,
        )
        for m in AIModel.objects.filter(active=True).select_related("provider")
    )
    assistants = tuple(
        AssistantInfo(
            family=a.family,
            name=a.name,
            default_task_types=tuple(a.default_task_types),
            system_prompt_tokens=estimate_tokens(a.system_prompt),
        )
        for a in Assistant.objects.filter(enabled=True)
    )
    return Catalog(
        models=models,
        assistants=assistants,
        cells=confidence_cells(),
        benchmark_prices=benchmark_prices(),
        quality_bar=settings.AUTO_QUALITY_BAR,
    )


def confidence_cells() -> dict[CellKey, CellEstimate]:
    """The confidence matrix as routing reads it; a cell escalates only on enough evidence."""
    return {
        (c.model.slug, c.task_type, c.complexity): CellEstimate(
            samples=c.samples,
            mean_score=c.mean_score,
            poor_rate=c.poor_rate,
            poor_low=c.poor_low,
            poor_high=c.poor_high,
            escalate=c.escalate and c.samples >= ESCALATION_MIN_SAMPLES,
        )
        for c in ConfidenceCell.objects.select_related("model")
    }


def benchmark_prices() -> tuple[Decimal, Decimal]:
    """(input, output) USD per million tokens of the benchmark model FinOps compares with
    (settings.FINOPS_BENCHMARK_MODEL); gpt-4o's list prices when its catalog row is missing."""
    slug = getattr(settings, "FINOPS_BENCHMARK_MODEL", BENCHMARK_MODEL_SLUG)
    row = (
        AIModel.objects.filter(slug=slug)
        .values_list("input_cost_per_mtok", "output_cost_per_mtok")
        .first()
    )
    return (row[0], row[1]) if row else BENCHMARK_FALLBACK_PRICES


def routing_rule_list(*, org: Organization) -> tuple[RuleInfo, ...]:
    """The organisation's enabled rules and the platform-wide ones (order breaks ties later)."""
    own = RoutingRule.objects.for_org(org)
    platform = RoutingRule.objects.filter(organization__isnull=True)
    rows = (own | platform).filter(enabled=True).select_related("target_model")
    return tuple(
        RuleInfo(
            id=r.id,
            order=r.order,
            name=r.name,
            organization_id=r.organization_id,
            conditions=dict(r.conditions),
            target_model=r.target_model.slug if r.target_model else None,
            target_family=r.target_family,
            mode=r.mode,
        )
        for r in rows.order_by("order", "id")
    )
