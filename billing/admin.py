"""Staff admin for plans, subscriptions, entitlements, the plan-request queue and the ledger."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdmin
from billing.models import (
    BudgetCap,
    CreditBalance,
    CreditLedger,
    Plan,
    PlanRequest,
    StripeEvent,
    Subscription,
    UserEntitlement,
)
from billing.services import plan_request_decide


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin[Plan]):
    list_display = (
        "name",
        "slug",
        "monthly_credits",
        "display_multiplier",
        "max_context",
        "rpm",
        "max_concurrency",
        "is_public",
        "sort_order",
    )
    list_filter = ("is_public", "images_allowed")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin[Subscription]):
    list_display = (
        "organization",
        "plan",
        "status",
        "current_period_start",
        "current_period_end",
        "stripe_subscription_id",
    )
    list_filter = ("status", "plan")
    list_select_related = ("organization", "plan")
    search_fields = (
        "organization__slug",
        "organization__name",
        "stripe_customer_id",
        "stripe_subscription_id",
    )
    autocomplete_fields = ("organization",)
    date_hierarchy = "current_period_start"
    readonly_fields = ("created_at",)


@admin.register(UserEntitlement)
class UserEntitlementAdmin(admin.ModelAdmin[UserEntitlement]):
    list_display = ("user", "organization", "plan", "extra_families", "expires_at", "note")
    list_filter = ("plan",)
    list_select_related = ("user", "organization", "plan")
    search_fields = ("user__email", "organization__slug", "organization__name", "note")
    autocomplete_fields = ("user", "organization")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)


@admin.register(PlanRequest)
class PlanRequestAdmin(admin.ModelAdmin[PlanRequest]):
    """The plan-request queue. Decisions go through the actions, which audit them."""

    list_display = (
        "created_at",
        "organization",
        "user",
        "requested_plan",
        "requested_family",
        "status",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "requested_plan")
    list_select_related = ("organization", "user", "requested_plan", "decided_by")
    search_fields = ("organization__slug", "organization__name", "user__email")
    date_hierarchy = "created_at"
    fields = (
        "organization",
        "user",
        "requested_plan",
        "requested_family",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "note",
        "created_at",
    )
    readonly_fields = fields
    actions = ("approve", "reject")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tenants ask from the app; staff only decide

    def has_delete_permission(self, request: HttpRequest, obj: PlanRequest | None = None) -> bool:
        return False

    @admin.action(description="Approve selected requests", permissions=("change",))
    def approve(self, request: HttpRequest, queryset: QuerySet[PlanRequest]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject selected requests", permissions=("change",))
    def reject(self, request: HttpRequest, queryset: QuerySet[PlanRequest]) -> None:
        self._decide(request, queryset, approve=False)

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[PlanRequest], *, approve: bool
    ) -> None:
        decided, refused = 0, 0
        for plan_request in queryset:
            try:
                plan_request_decide(request=plan_request, approve=approve, actor=request.user)  # type: ignore[arg-type]
            except ValidationError:
                refused += 1
            else:
                decided += 1
        verb = "Approved" if approve else "Rejected"
        self.message_user(request, f"{verb} {decided} request(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"Skipped {refused} request(s) that were already decided.",
                messages.WARNING,
            )


@admin.register(CreditLedger)
class CreditLedgerAdmin(ReadOnlyAdmin[CreditLedger]):
    list_display = ("at", "organization", "user", "kind", "credits", "call", "note")
    list_filter = ("kind",)
    list_select_related = ("organization", "user")
    search_fields = ("organization__slug", "organization__name", "user__email", "note")
    date_hierarchy = "at"

    @admin.display(description="model call")
    def call(self, obj: CreditLedger) -> int | None:
        return obj.model_call_id


@admin.register(CreditBalance)
class CreditBalanceAdmin(ReadOnlyAdmin[CreditBalance]):
    list_display = ("organization", "credits", "updated_at")
    list_select_related = ("organization",)
    search_fields = ("organization__slug", "organization__name")


@admin.register(BudgetCap)
class BudgetCapAdmin(ReadOnlyAdmin[BudgetCap]):
    """Caps are the customer's own setting (billing page); staff only look."""

    list_display = ("organization", "user", "api_key", "monthly_credits", "updated_at")
    list_select_related = ("organization", "user", "api_key")
    search_fields = ("organization__slug", "organization__name", "user__email")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin[StripeEvent]):
    list_display = ("event_id", "type", "created", "processed_at")
    list_filter = ("type",)
    search_fields = ("event_id",)
    date_hierarchy = "processed_at"
