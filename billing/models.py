"""Plans, subscriptions, entitlements, plan requests and the credit ledger.

Plans name assistant families and model slugs rather than pointing at routing's tables:
billing knows nothing about providers, and routing reads entitlements from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import Combinable

from accounts.tenancy import TenantModel
from billing.money import money_field, price_field

ROUTING_MODES = ["auto", "cost", "speed", "quality", "custom"]


def _slug_list(help_text: str = "") -> ArrayField[Sequence[str] | Combinable, list[str]]:
    return ArrayField(
        models.SlugField(max_length=100), default=list, blank=True, help_text=help_text
    )


def _model_slug_list(help_text: str = "") -> ArrayField[Sequence[str] | Combinable, list[str]]:
    """Model slugs as providers name them, e.g. `openai/gpt-4.1-mini`."""
    return ArrayField(
        models.CharField(max_length=120), default=list, blank=True, help_text=help_text
    )


class Plan(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_credits = price_field()
    display_multiplier = price_field(
        default=1, help_text="Credits shown to the customer per 1 USD of raw provider cost"
    )
    allowed_families = _slug_list(help_text="Assistant family slugs this plan may use")
    allowed_models = _model_slug_list(help_text="Model slugs this plan may use; empty means any")
    allowed_modes = _slug_list(help_text=f"Routing modes among {', '.join(ROUTING_MODES)}")
    max_context = models.PositiveIntegerField(help_text="Largest prompt + history, in tokens")
    rpm = models.PositiveIntegerField(help_text="Requests per minute per user")
    org_rpm = models.PositiveIntegerField(
        default=0, help_text="Requests per minute per organisation; 0 means 10 × rpm"
    )
    max_concurrency = models.PositiveSmallIntegerField(help_text="Open streams per organisation")
    images_allowed = models.BooleanField(default=False)
    denied_categories = _slug_list(
        help_text="Content categories refused on this plan, e.g. adult, weapons"
    )
    credits_roll_over = models.BooleanField(
        default=False,
        help_text="Unused credits carry into the next period; otherwise they expire at its end",
    )
    cached_answer_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.1"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share of the original answer's credits a cached answer costs (0 is free)",
    )
    stripe_price_id = models.CharField(
        max_length=100, blank=True, help_text="Stripe price (price_...) that checkout sells"
    )
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_public = models.BooleanField(default=True)
    # Shadow audits: the share of economy answers re-asked of a reference model, and what the
    # platform spends on them per organisation per day at most (USD, never billed).
    audit_rate = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.05"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share of economy answers shadow-audited, 0..1",
    )
    audit_daily_budget = price_field(
        default=Decimal("1.00"), help_text="USD of audit spend per organisation per day at most"
    )

    class Meta:
        ordering = ["sort_order", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(monthly_credits__gte=0), name="plan_credits_gte_0"),
            models.CheckConstraint(
                condition=Q(display_multiplier__gt=0), name="plan_multiplier_gt_0"
            ),
            models.CheckConstraint(condition=Q(max_context__gt=0), name="plan_context_gt_0"),
        ]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"


LIVE_SUBSCRIPTION_STATUSES = [
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
]


class Subscription(TenantModel):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Cancelled: the organisation drops to Free at this time"
    )
    audit_rate = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="The organisation's shadow-audit share; empty uses the plan's",
    )
    # The creation time of the last Stripe event applied, so an older one arriving late
    # never rolls the subscription back.
    stripe_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status__in=LIVE_SUBSCRIPTION_STATUSES),
                name="one_live_subscription_per_org",
            ),
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=~Q(stripe_subscription_id=""),
                name="one_row_per_stripe_subscription",
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=models.F("current_period_start")),
                name="subscription_period_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} on {self.plan} ({self.status})"


class UserEntitlement(TenantModel):
    """Per-user overrides on top of the organisation's plan."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, help_text="Replaces the org plan"
    )
    extra_families = _slug_list()
    extra_models = _model_slug_list()
    expires_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="one_entitlement_per_user_org"
            )
        ]

    def __str__(self) -> str:
        return f"entitlement of {self.user} in {self.organization}"


class PlanRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class PlanRequest(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_requests"
    )
    requested_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True)
    requested_family = models.SlugField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=PlanRequestStatus.choices, default=PlanRequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_plan__isnull=False) | ~Q(requested_family=""),
                name="plan_request_names_plan_or_family",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} asks for {self.requested_plan or self.requested_family}"


class LedgerKind(models.TextChoices):
    GRANT = "grant", "Grant"
    USAGE = "usage", "Usage"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    EXPIRY = "expiry", "Expiry"


class CreditLedger(TenantModel):
    """Append-only credit movements; the balance is their sum (kept in CreditBalance).

    Rows are never updated: a correction is a new `adjustment` or `refund` row, so the
    history explains every balance. Grants and refunds are positive, usage and expiry are
    negative. A period's grant and expiry carry a `period_key` (our period, or Stripe's), so
    each happens once however often a renewal or a webhook runs.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    credits = money_field()
    model_call = models.OneToOneField(
        "usage.ModelCall", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    note = models.CharField(max_length=200, blank=True)
    period_key = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["usage", "expiry"]) | Q(credits__lte=0),
                name="ledger_usage_is_debit",
            ),
            models.UniqueConstraint(
                fields=["organization", "period_key"],
                condition=~Q(period_key=""),
                name="one_period_row_per_key",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["grant", "refund"]) | Q(credits__gte=0),
                name="ledger_grant_is_credit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.credits}"


class CreditBalance(TenantModel):
    """The sum of one organisation's ledger, kept by a database trigger on CreditLedger.

    Reading a balance is then one row, however long the history, and no code path that
    writes the ledger (services, admin, fixtures) can forget to update it. Never written by
    the application.
    """

    credits = money_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_balance_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.credits}"


class StripeEvent(models.Model):
    """A Stripe webhook event already applied: recorded in the transaction of its effect, so
    a retried or repeated event changes nothing more."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80)
    created = models.DateTimeField(help_text="When Stripe created the event")
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class BudgetCap(TenantModel):
    """A monthly credit cap (UTC calendar month) on the whole organisation, one member or one
    API key. A chat that would pass any cap that applies to it is refused before it starts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.CASCADE, null=True, blank=True)
    monthly_credits = price_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(api_key__isnull=True),
                name="budget_cap_one_subject",
            ),
            models.UniqueConstraint(
                fields=["organization", "user", "api_key"],
                nulls_distinct=False,
                name="one_budget_cap_per_subject",
            ),
        ]

    @property
    def scope(self) -> str:
        if self.user_id:
            return "member"
        return "api_key" if self.api_key_id else "organization"

    def __str__(self) -> str:
        return f"{self.scope} cap {self.monthly_credits}"


class BudgetSpend(TenantModel):
    """Credits used in one month by the organisation (no user, no key), one member or one
    key: kept by `billing_ledger_usage_debit` as each call is billed, so checking a cap is
    one indexed read however busy the month."""

    month = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.CASCADE, null=True, blank=True)
    credits = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "user", "api_key"],
                nulls_distinct=False,
                name="one_budget_spend_per_subject_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credits} in {self.month:%Y-%m}"


class BudgetAlert(TenantModel):
    """A cap that reached its warning share this month: inserted once by the bill, e-mailed
    by a beat task (`sent_at`)."""

    cap = models.ForeignKey(BudgetCap, on_delete=models.CASCADE, related_name="alerts")
    month = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cap", "month"], name="one_budget_alert_per_month")
        ]

    def __str__(self) -> str:
        return f"alert on {self.cap} for {self.month:%Y-%m}"
