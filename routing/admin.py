"""Staff admin for the catalog, routing rules and precheck/cache/audit records.

No page shows a provider key (only the name of the variable holding it) or a prompt's text.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdmin
from routing.cache.entries import cache_entries_delete, cache_policy_set
from routing.models import (
    AIModel,
    AnswerFeedback,
    Assistant,
    CachePolicy,
    ConfidenceCell,
    ConfidenceChange,
    ModelProvider,
    PromptCheck,
    RoutingRule,
    SemanticCacheEntry,
    ShadowAudit,
)
from routing.services import aimodel_prices_changed, aimodel_set_active


@admin.display(description="prompt sha256")
def prompt_hash(obj: PromptCheck | SemanticCacheEntry) -> str:
    return f"{obj.prompt_sha256[:12]}…"


@admin.register(ModelProvider)
class ModelProviderAdmin(admin.ModelAdmin[ModelProvider]):
    list_display = ("name", "slug", "kind", "status", "priority", "key_env", "key_set")
    list_filter = ("kind", "status")
    search_fields = ("name", "slug")
    readonly_fields = ("key_set",)

    @admin.display(description="key set?")
    def key_set(self, obj: ModelProvider) -> str:
        # Only whether the variable is non-empty: its value never reaches a page.
        return "yes" if obj.key_env and os.environ.get(obj.key_env) else "no"


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin[AIModel]):
    """`active` changes only through the actions, so every (de)activation is audited."""

    # State first, and the two prices in one column: the list fits a 1366 px screen.
    list_display = (
        "display_name",
        "active",
        "slug",
        "provider",
        "prices",
        "context_window",
        "latency_tier",
        "supports_images",
    )
    list_filter = ("active", "provider", "latency_tier", "supports_images")
    list_select_related = ("provider",)
    search_fields = ("slug", "display_name", "provider__slug")
    readonly_fields = ("active",)

    @admin.display(description="USD per M tokens in / out", ordering="input_cost_per_mtok")
    def prices(self, obj: AIModel) -> str:
        return f"{obj.input_cost_per_mtok.normalize():f} / {obj.output_cost_per_mtok.normalize():f}"

    actions = ("activate", "deactivate")

    def save_model(self, request: HttpRequest, obj: AIModel, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            aimodel_prices_changed(model=obj, changed=form.changed_data)

    @admin.action(description="Activate selected models", permissions=("change",))
    def activate(self, request: HttpRequest, queryset: QuerySet[AIModel]) -> None:
        self._set_active(request, queryset, active=True)

    @admin.action(description="Deactivate selected models", permissions=("change",))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[AIModel]) -> None:
        self._set_active(request, queryset, active=False)

    def _set_active(
        self, request: HttpRequest, queryset: QuerySet[AIModel], *, active: bool
    ) -> None:
        chosen = list(queryset)
        for model in chosen:
            aimodel_set_active(model=model, active=active, actor=request.user)  # type: ignore[arg-type]
        state = "active" if active else "inactive"
        self.message_user(request, f"{len(chosen)} model(s) are now {state}.", messages.SUCCESS)


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin[Assistant]):
    list_display = ("name", "family", "default_task_types", "enabled")
    list_filter = ("enabled",)
    search_fields = ("name", "family")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin[RoutingRule]):
    list_display = (
        "order",
        "name",
        "organization",
        "target_model",
        "target_family",
        "mode",
        "enabled",
    )
    list_filter = ("enabled", "mode")
    list_select_related = ("organization", "target_model")
    search_fields = ("name", "organization__slug", "organization__name", "target_family")
    autocomplete_fields = ("organization", "target_model")


@admin.register(PromptCheck)
class PromptCheckAdmin(ReadOnlyAdmin[PromptCheck]):
    list_display = (
        "at",
        "organization",
        "user",
        "task_type",
        "complexity",
        "risk_level",
        "blocked",
        "recommended_assistant",
        "cache_outcome",
        prompt_hash,
    )
    list_filter = ("risk_level", "blocked", "task_type", "complexity", "cache_outcome")
    list_select_related = ("organization", "user")
    search_fields = ("=prompt_sha256", "organization__slug", "user__email")
    date_hierarchy = "at"
    # The conversation's title may quote the prompt: show its id only.
    exclude = ("conversation",)
    readonly_fields = ("conversation_ref",)

    @admin.display(description="conversation")
    def conversation_ref(self, obj: PromptCheck) -> int | None:
        return obj.conversation_id


@admin.register(SemanticCacheEntry)
class SemanticCacheEntryAdmin(admin.ModelAdmin[SemanticCacheEntry]):
    """Staff may purge entries but not write them; the cached answer is not shown."""

    list_display = (
        "created_at",
        "organization",
        "scope",
        prompt_hash,
        "model",
        "hits",
        "expires_at",
    )
    list_filter = ("scope",)
    list_select_related = ("organization", "model")
    search_fields = ("=prompt_sha256", "scope", "organization__slug")
    date_hierarchy = "created_at"
    exclude = ("embedding", "response")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: SemanticCacheEntry | None = None
    ) -> bool:
        return False

    # A purge must drop the exact keys in Valkey too, or they would keep answering.
    def delete_model(self, request: HttpRequest, obj: SemanticCacheEntry) -> None:
        cache_entries_delete(rows=SemanticCacheEntry.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SemanticCacheEntry]) -> None:
        cache_entries_delete(rows=queryset)


@admin.register(CachePolicy)
class CachePolicyAdmin(admin.ModelAdmin[CachePolicy]):
    """An organisation's opt-out; saving "off" also clears its cached answers."""

    list_display = ("organization", "enabled", "updated_at")
    list_filter = ("enabled",)
    list_select_related = ("organization",)
    search_fields = ("organization__slug",)

    def save_model(self, request: HttpRequest, obj: CachePolicy, form: Any, change: bool) -> None:
        cache_policy_set(org=obj.organization, enabled=obj.enabled)


@admin.register(ShadowAudit)
class ShadowAuditAdmin(ReadOnlyAdmin[ShadowAudit]):
    list_display = (
        "at",
        "organization",
        "call",
        "task_type",
        "complexity",
        "economy_model",
        "reference_model",
        "score",
        "verdict",
        "raw_cost",
    )
    list_filter = ("verdict", "method", "task_type", "complexity")
    list_select_related = ("organization", "economy_model", "reference_model")
    exclude = ("reference_answer",)  # the customer's data: staff pages show scores only
    search_fields = ("organization__slug", "model_call__request_id")
    date_hierarchy = "at"

    @admin.display(description="model call")
    def call(self, obj: ShadowAudit) -> int:
        return obj.model_call_id


@admin.register(ConfidenceCell)
class ConfidenceCellAdmin(ReadOnlyAdmin[ConfidenceCell]):
    """Rebuilt from shadow audits, so hand edits would be overwritten: view only."""

    list_display = (
        "model",
        "task_type",
        "complexity",
        "samples",
        "mean_score",
        "poor_rate",
        "escalate",
        "rebuilt_at",
    )
    list_filter = ("escalate", "task_type", "complexity")
    list_select_related = ("model",)
    search_fields = ("model__slug", "model__display_name")


@admin.register(ConfidenceChange)
class ConfidenceChangeAdmin(ReadOnlyAdmin[ConfidenceChange]):
    """Written by the matrix rebuild: the log of escalations with their evidence."""

    list_display = ("at", "cell", "escalate")
    list_filter = ("escalate",)
    list_select_related = ("cell__model",)


@admin.register(AnswerFeedback)
class AnswerFeedbackAdmin(ReadOnlyAdmin[AnswerFeedback]):
    list_display = ("at", "organization", "model", "task_type", "complexity", "helpful")
    list_filter = ("helpful", "task_type")
    list_select_related = ("organization", "model")
