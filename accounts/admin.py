"""Staff admin for users, organisations, memberships, API keys and the audit log.

Also holds `ReadOnlyAdmin`, which the other apps' admins use for append-only records.
"""

from __future__ import annotations

from typing import TypedDict, TypeVar

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django_stubs_ext import WithAnnotations

from accounts.models import ApiKey, AuditLog, Membership, Organization, User
from accounts.services import api_key_revoke_as_staff

admin.site.site_header = "Switchboard staff"
admin.site.site_title = "Switchboard staff"
admin.site.index_title = "Platform administration"


M = TypeVar("M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """Append-only records: staff may look, but nobody adds, changes or deletes them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = ("email", "username", "is_staff", "is_active", "date_joined", "last_login")
    search_fields = ("email", "username", "first_name", "last_name")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "username", "usable_password", "password1", "password2"),
            },
        ),
    )


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class _MemberCount(TypedDict):
    member_count: int


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("name", "slug", "member_count", "created_at")
    search_fields = ("name", "slug")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: WithAnnotations[Organization, _MemberCount]) -> int:
        return obj.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "organization__slug", "organization__name")
    autocomplete_fields = ("user", "organization")
    date_hierarchy = "created_at"


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Keys are created in the app, where the secret is shown once; staff can only revoke.

    The hash of the secret is never shown or editable: `exclude` keeps it out of the form
    and no column or read-only field names it.
    """

    list_display = (
        "name",
        "prefix",
        "organization",
        "user",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("organization", "user")
    search_fields = ("name", "prefix", "organization__slug", "user__email")
    date_hierarchy = "created_at"
    exclude = ("secret_sha256",)
    readonly_fields = (
        "organization",
        "user",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke_keys",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Model calls keep pointing at revoked keys; deleting would erase that history.
        return False

    @admin.action(description="Revoke selected keys", permissions=("change",))
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke_as_staff(key=key, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin[AuditLog]):
    list_display = ("at", "action", "target", "actor", "organization")
    list_filter = ("action",)
    list_select_related = ("actor", "organization")
    search_fields = ("action", "target", "actor__email", "organization__slug")
    date_hierarchy = "at"
