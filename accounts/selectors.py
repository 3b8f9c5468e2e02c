from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db.models import QuerySet

from accounts.models import ApiKey, Membership, Organization, User


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def membership_list(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("id")


def membership_choose(
    memberships: Sequence[Membership], chosen_org_id: object
) -> Membership | None:
    """The membership of the organisation the session chose, if the user still belongs to it,
    else their first: the current organisation of pages and of the chat socket alike."""
    chosen = next((m for m in memberships if m.organization_id == chosen_org_id), None)
    return chosen or (memberships[0] if memberships else None)


def membership_get(*, org: Organization, user: User) -> Membership | None:
    return Membership.objects.for_org(org).filter(user=user).first()


def api_key_list(*, org: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_org(org).select_related("user").order_by("revoked_at", "-created_at")


def api_key_get_active(*, secret: str) -> ApiKey | None:
    """The live key with this secret, with its organisation and user, or None."""
    return (
        ApiKey.objects.select_related("organization", "user")
        .filter(secret_sha256=secret_sha256(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
