from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

CAP_SUBJECTS = {
    "organization": "the organisation's",
    "member": "your",
    "api_key": "this API key's",
}


@dataclass(frozen=True)
class CapLeft:
    """The tightest monthly budget cap on a chat, and how much of it is used this month."""

    scope: str  # organization | member | api_key
    monthly_credits: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal:
        return max(self.monthly_credits - self.spent, Decimal(0))

    @property
    def subject(self) -> str:
        """Whose cap, as a sentence says it: "your", "the organisation's"."""
        return CAP_SUBJECTS[self.scope]


@dataclass(frozen=True)
class Budget:
    """What a chat may still spend, read fresh for each one: the organisation's credits and
    the tightest monthly cap on this user and key."""

    credits_left: Decimal
    cap: CapLeft | None = None


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
    cap: CapLeft | None = None  # read fresh with the credits, like them
    # What a cached answer costs, as a share of the credits the original answer cost.
    cached_answer_share: Decimal = Decimal("0.1")
    # Shadow audits: the share of economy answers audited (org setting, else the plan's) and
    # the platform's daily audit spend on this organisation at most (USD).
    audit_rate: Decimal = Decimal("0.05")
    audit_daily_budget: Decimal = Decimal("1.00")

    def allows_model(self, slug: str) -> bool:
        return not self.models or slug in self.models

    def to_credits(self, raw_cost: Decimal) -> Decimal:
        return raw_cost * self.display_multiplier

    def over_budget(self, credits: Decimal) -> str | None:
        """The budget rule: an answer estimated at `credits` may start only if they are left
        in the organisation's balance and under the tightest monthly cap on the chat. Says
        what stops it ("credits" or "cap"), or None."""
        if credits > self.credits_left:
            return "credits"
        if self.cap is not None and credits > self.cap.left:
            return "cap"
        return None
