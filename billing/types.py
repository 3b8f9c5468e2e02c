from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Entitlement:
    """What one user may do in one organisation right now: plan plus personal overrides."""

    plan_slug: str
    plan_name: str
    families: frozenset[str]
    models: frozenset[str]  # empty: any active model
    modes: frozenset[str]
    max_context: int
    rpm: int
    org_rpm: int
    max_concurrency: int
    images_allowed: bool
    denied_categories: frozenset[str]
    display_multiplier: Decimal
    credits_left: Decimal
    period_start: datetime
    period_end: datetime

    def allows_model(self, slug: str) -> bool:
        return not self.models or slug in self.models

    def to_credits(self, raw_cost: Decimal) -> Decimal:
        return raw_cost * self.display_multiplier

    def affords(self, credits: Decimal) -> bool:
        """The budget rule: an answer estimated at `credits` may start only if they are left."""
        return credits <= self.credits_left
