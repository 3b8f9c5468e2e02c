"""Staff admin for model calls and what they cost: all view-only, since records are never edited."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdmin
from usage.models import (
    AbuseFlag,
    CostRecord,
    ModelCall,
    MonthlyReport,
    UsageDaily,
    UsageRecord,
)
from usage.services import abuse_flag_clear


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin[ModelCall]):
    list_display = (
        "at",
        "request_id",
        "attempt",
        "organization",
        "user",
        "provider",
        "model",
        "task_type",
        "status",
        "latency_ms",
        "ttft_ms",
        "input_tokens",
        "output_tokens",
    )
    list_filter = ("status", "provider", "task_type", "assistant_family")
    list_select_related = ("organization", "user", "provider", "model")
    search_fields = ("=request_id", "organization__slug", "user__email", "model__slug")
    date_hierarchy = "at"
    # The conversation's title may quote the prompt: show its id only.
    exclude = ("conversation",)
    readonly_fields = ("conversation_ref",)

    @admin.display(description="conversation")
    def conversation_ref(self, obj: ModelCall) -> int | None:
        return obj.conversation_id


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin[UsageRecord]):
    list_display = ("at", "request_id", "organization", "user", "type", "quantity", "display_units")
    list_filter = ("type",)
    list_select_related = ("organization", "user")
    search_fields = ("=request_id", "organization__slug", "user__email")
    date_hierarchy = "at"


@admin.register(CostRecord)
class CostRecordAdmin(ReadOnlyAdmin[CostRecord]):
    list_display = (
        "at",
        "organization",
        "call",
        "raw_cost",
        "multiplier",
        "display_cost",
        "benchmark_cost",
        "currency",
    )
    list_filter = ("currency",)
    list_select_related = ("organization",)
    search_fields = ("=model_call__request_id", "organization__slug")
    date_hierarchy = "at"

    @admin.display(description="model call")
    def call(self, obj: CostRecord) -> int:
        return obj.model_call_id


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin[UsageDaily]):
    """A rollup rebuilt from the records, so it is view-only like them."""

    list_display = (
        "day",
        "organization",
        "user",
        "end_user",
        "assistant_family",
        "task_type",
        "model",
        "requests",
        "input_tokens",
        "output_tokens",
        "raw_cost",
        "display_cost",
        "benchmark_cost",
    )
    list_filter = ("assistant_family", "task_type")
    list_select_related = ("organization", "user", "model")
    search_fields = ("organization__slug", "user__email", "model__slug", "end_user")
    date_hierarchy = "day"


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin[MonthlyReport]):
    list_display = ("month", "organization", "status", "progress", "file", "finished_at")
    list_filter = ("status",)
    list_select_related = ("organization",)
    search_fields = ("organization__slug", "organization__name")
    date_hierarchy = "month"


@admin.register(AbuseFlag)
class AbuseFlagAdmin(ReadOnlyAdmin[AbuseFlag]):
    """Flags are raised by the abuse signals; staff only clear them, through the audited action."""

    list_display = ("raised_at", "organization", "user", "kind", "detail", "cleared_at")
    list_filter = ("kind", ("cleared_at", admin.EmptyFieldListFilter))
    list_select_related = ("organization", "user")
    search_fields = ("organization__slug", "user__email")
    date_hierarchy = "raised_at"
    actions = ("clear_flags",)

    def has_clear_permission(self, request: HttpRequest) -> bool:
        # The rows stay read-only; clearing needs the model's change permission.
        return request.user.has_perm("usage.change_abuseflag")

    @admin.action(description="Clear selected flags", permissions=("clear",))
    def clear_flags(self, request: HttpRequest, queryset: QuerySet[AbuseFlag]) -> None:
        flags = list(queryset.filter(cleared_at__isnull=True))
        for flag in flags:
            abuse_flag_clear(flag=flag, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Cleared {len(flags)} flag(s).", messages.SUCCESS)
