"""The plans (free, pro, team) as plain data, and `plans_seed()` that writes them idempotently.

Credits are display units: a plan's `display_multiplier` is how many credits one US dollar
of raw provider cost is shown as. Monthly credits are sized from a raw-cost budget:

| plan | multiplier | monthly credits | raw-cost budget | e.g. gpt-4o-mini chats (1k in / 500 out) |
|------|-----------:|----------------:|----------------:|-----------------------------------------:|
| free |       1500 |           1,500 |          $1.00  |                                  ~2,200  |
| pro  |       1200 |          30,000 |         $25.00  |                                 ~55,000  |
| team |       1000 |         150,000 |        $150.00  |                                ~330,000  |

Plans name assistant families and model slugs as strings: billing knows nothing about
providers, so the free plan's model list is kept in step with `routing/catalog.py` by a test.

`catalog_row_upsert` is the one upsert both catalog seeds (this one and routing's) use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.db import models, transaction

from billing.models import ROUTING_MODES, Plan

M = TypeVar("M", bound=models.Model)
Outcome = Literal["created", "updated", "unchanged"]

ALL_FAMILIES = ("generalist", "writer", "tutor", "coder", "analyst")
# Cheap models only; the simulator's economy and standard tiers keep the demo working offline.
FREE_MODELS = (
    "sim/economy",
    "sim/standard",
    "openai/gpt-4o-mini",
    "openai/gpt-4.1-mini",
    "google/gemini-2.5-flash",
    "meta-llama/llama-3.3-70b-instruct",
    "deepseek/deepseek-chat-v3-0324",
)


@dataclass(frozen=True)
class SeedCounts:
    """How many catalog rows one seed created, changed, or found already up to date."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: Outcome) -> SeedCounts:
        return replace(self, **{outcome: getattr(self, outcome) + 1})

    def __add__(self, other: SeedCounts) -> SeedCounts:
        return SeedCounts(
            created=self.created + other.created,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
        )

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True)
class PlanSpec:
    slug: str
    name: str
    monthly_credits: Decimal
    display_multiplier: Decimal
    allowed_families: tuple[str, ...]
    allowed_modes: tuple[str, ...]
    max_context: int
    rpm: int
    max_concurrency: int
    images_allowed: bool
    sort_order: int
    allowed_models: tuple[str, ...] = field(default=())  # empty means any model
    denied_categories: tuple[str, ...] = field(default=("weapons",))


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(
        slug="free",
        name="Free",
        monthly_credits=Decimal("1500"),
        display_multiplier=Decimal("1500"),
        allowed_families=("generalist", "writer", "tutor"),
        allowed_models=FREE_MODELS,
        allowed_modes=("auto",),
        max_context=16_000,
        rpm=10,
        max_concurrency=1,
        images_allowed=False,
        denied_categories=("adult", "gambling", "weapons"),
        sort_order=10,
    ),
    PlanSpec(
        slug="pro",
        name="Pro",
        monthly_credits=Decimal("30000"),
        display_multiplier=Decimal("1200"),
        allowed_families=ALL_FAMILIES,
        allowed_modes=("auto", "cost", "speed", "quality"),
        max_context=128_000,
        rpm=60,
        max_concurrency=4,
        images_allowed=True,
        sort_order=20,
    ),
    PlanSpec(
        slug="team",
        name="Team",
        monthly_credits=Decimal("150000"),
        display_multiplier=Decimal("1000"),
        allowed_families=ALL_FAMILIES,
        allowed_modes=tuple(ROUTING_MODES),
        max_context=1_000_000,
        rpm=300,
        max_concurrency=16,
        images_allowed=True,
        sort_order=30,
    ),
)


def catalog_row_upsert(
    model: type[M],
    *,
    lookup: Mapping[str, Any],
    defaults: Mapping[str, Any],
    create_defaults: Mapping[str, Any] | None = None,
) -> Outcome:
    """Create the row, or bring its `defaults` fields up to date; writes nothing if all match.

    `create_defaults` apply on creation only, so staff edits to those fields (a model
    deactivated, a provider marked down) survive a re-seed. Unlike `update_or_create`, an
    up-to-date row is not rewritten, so the caller can report honest counts. Call inside
    `transaction.atomic()`: the row is locked while it is compared.
    """
    row = model._default_manager.select_for_update().filter(**lookup).first()
    if row is None:
        row = model(**lookup, **defaults, **(create_defaults or {}))
        row.full_clean()
        row.save()
        return "created"
    changed = [name for name, value in defaults.items() if getattr(row, name) != value]
    if not changed:
        return "unchanged"
    for name in changed:
        setattr(row, name, defaults[name])
    row.full_clean()
    row.save(update_fields=changed)
    return "updated"


def _plan_defaults(spec: PlanSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "monthly_credits": spec.monthly_credits,
        "display_multiplier": spec.display_multiplier,
        "allowed_families": list(spec.allowed_families),
        "allowed_models": list(spec.allowed_models),
        "allowed_modes": list(spec.allowed_modes),
        "max_context": spec.max_context,
        "rpm": spec.rpm,
        "max_concurrency": spec.max_concurrency,
        "images_allowed": spec.images_allowed,
        "denied_categories": list(spec.denied_categories),
        "sort_order": spec.sort_order,
    }


def plans_seed() -> SeedCounts:
    """Write PLANS keyed by slug; idempotent. Stripe price ids and `is_public` stay staff-owned."""
    counts = SeedCounts()
    with transaction.atomic():
        for spec in PLANS:
            outcome = catalog_row_upsert(
                Plan,
                lookup={"slug": spec.slug},
                defaults=_plan_defaults(spec),
            )
            counts = counts.add(outcome)
    return counts
