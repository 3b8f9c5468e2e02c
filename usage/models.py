"""Model calls and what they cost. Records are written once per billed call, never edited."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.tenancy import TenantModel
from billing.money import money_field, price_field

END_USER_MAX = 128


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    STREAMING = "streaming", "Streaming"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    CACHED = "cached", "Cached"


class ModelCall(TenantModel):
    """One provider attempt. A request with fallbacks has several, sharing `request_id`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.SET_NULL, null=True, blank=True)
    conversation = models.ForeignKey(
        "chat.Conversation", on_delete=models.SET_NULL, null=True, blank=True
    )
    request_id = models.CharField(max_length=64)
    attempt = models.PositiveSmallIntegerField(default=1)
    fallback_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="fallbacks"
    )
    provider = models.ForeignKey("routing.ModelProvider", on_delete=models.PROTECT)
    model = models.ForeignKey("routing.AIModel", on_delete=models.PROTECT)
    # Who the call was for in the customer's own product (/v1's `user` field); opaque to us.
    end_user = models.CharField(max_length=END_USER_MAX, blank=True, default="", db_default="")
    assistant_family = models.SlugField(max_length=40, blank=True)
    task_type = models.CharField(max_length=32, blank=True)
    route_reasons = models.JSONField(default=list, blank=True)
    display_multiplier = price_field(
        default=1, help_text="The plan's credits per USD when the request was priced"
    )
    status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.PENDING)
    error = models.CharField(max_length=300, blank=True, help_text="Redacted error summary")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    deadline_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-at"]),
            models.Index(fields=["status", "deadline_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "request_id", "attempt"], name="one_call_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.attempt} {self.status}"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class UsageRecord(TenantModel):
    """What a billed call consumed, in display units (credits). One per request."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    model_call = models.OneToOneField(ModelCall, on_delete=models.PROTECT, related_name="usage")
    request_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16, default="tokens")
    quantity = models.PositiveIntegerField()
    display_units = money_field()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "request_id"], name="one_usage_per_request"
            ),
            models.CheckConstraint(condition=Q(display_units__gte=0), name="usage_units_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.type}"


class CostRecord(TenantModel):
    """Raw provider cost (staff only) beside the credits shown to the customer."""

    model_call = models.OneToOneField(ModelCall, on_delete=models.PROTECT, related_name="cost")
    raw_cost = money_field()
    display_cost = money_field()
    multiplier = price_field()
    benchmark_cost = money_field()
    currency = models.CharField(max_length=3, default="USD")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(raw_cost__gte=0) & Q(display_cost__gte=0) & Q(benchmark_cost__gte=0),
                name="cost_non_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.raw_cost} {self.currency}"


class UsageDaily(TenantModel):
    """One UTC day of billed requests per member, API key, end user, assistant family, task
    type and model. Rebuilt from the records by `usage_daily_rollup`, never edited by hand."""

    day = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.SET_NULL, null=True, blank=True)
    end_user = models.CharField(max_length=END_USER_MAX, blank=True)
    assistant_family = models.SlugField(max_length=40, blank=True)
    task_type = models.CharField(max_length=32, blank=True)
    model = models.ForeignKey("routing.AIModel", on_delete=models.PROTECT, null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)
    cache_hits = models.PositiveIntegerField(default=0)
    fallbacks = models.PositiveIntegerField(default=0, help_text="Answered by a fallback model")
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    raw_cost = money_field()
    display_cost = money_field(help_text="Credits")
    benchmark_cost = money_field(help_text="USD at the benchmark model's list prices")
    benchmark_credits = money_field(help_text="The benchmark cost at the calls' multipliers")

    class Meta:
        indexes = [models.Index(fields=["organization", "day"])]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "day",
                    "user",
                    "api_key",
                    "end_user",
                    "assistant_family",
                    "task_type",
                    "model",
                ],
                nulls_distinct=False,
                name="one_rollup_row_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.assistant_family or '-'}"

    @property
    def savings(self) -> Decimal:
        return self.benchmark_cost - self.raw_cost


class UsageDailyBuild(TenantModel):
    """Which records a day's rollup was built from: the rollup rebuilds a day only when its
    records no longer match (a late call), so re-running it changes nothing."""

    day = models.DateField()
    records = models.PositiveIntegerField()
    last_record_id = models.BigIntegerField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day"], name="one_build_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} ({self.records} records)"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class MonthlyReport(TenantModel):
    """The monthly FinOps PDF of one organisation; built by a Celery task, served only to it."""

    month = models.DateField(help_text="First day of the month")
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    error = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="one_report_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.month:%Y-%m}"


class AbuseKind(models.TextChoices):
    BLOCKED_PROMPTS = "blocked_prompts", "Repeated blocked prompts"
    HIGH_COST = "high_cost", "Repeated high-cost calls"


class AbuseFlag(TenantModel):
    """Raised when one user trips an abuse signal; while open, that user's limits tighten."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=24, choices=AbuseKind.choices)
    detail = models.CharField(max_length=200, blank=True)
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "user", "cleared_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_flag_per_user_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by user {self.user_id}"
