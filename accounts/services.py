from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiKey, AuditLog, Membership, Organization, Role, User
from accounts.selectors import membership_get, secret_sha256
from accounts.tenancy import get_for_org

API_KEY_PREFIX = "sb_"


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str


def organization_create(*, name: str, owner: User, slug: str | None = None) -> Organization:
    """Create an organisation with `owner` as its owner. Slugs are made unique by suffixing."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "An organisation needs a name."})
    base = slugify(slug or name)[:50] or "org"
    candidate, n = base, 1
    with transaction.atomic():
        while Organization.objects.filter(slug=candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        org = Organization.objects.create(name=name, slug=candidate)
        Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    return org


def membership_require_manager(*, org: Organization, user: User) -> Membership:
    """The user's membership if they are an owner or admin of `org`; PermissionDenied otherwise."""
    membership = membership_get(org=org, user=user)
    if membership is None or not membership.can_manage:
        raise PermissionDenied("Only owners and admins of this organisation can do that.")
    return membership


def api_key_create(
    *, org: Organization, actor: User, name: str, scopes: list[str] | None = None
) -> NewApiKey:
    """A new key for `actor` in `org`. The secret is returned here once and never stored."""
    membership_require_manager(org=org, user=actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the key a name, e.g. 'production backend'."})
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=org,
            user=actor,
            name=name[:80],
            prefix=secret[:10],
            secret_sha256=secret_sha256(secret),
            scopes=scopes or [],
        )
        audit_log_record(actor=actor, org=org, action="api_key.create", target=str(key))
    return NewApiKey(key=key, secret=secret)


def api_key_revoke(*, org: Organization, actor: User, key_id: Any) -> ApiKey:
    """Revoke a key of `org`; revoking twice keeps the first revocation time."""
    membership_require_manager(org=org, user=actor)
    with transaction.atomic():
        key = get_for_org(ApiKey.objects.select_for_update(), org=org, pk=key_id)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_log_record(actor=actor, org=org, action="api_key.revoke", target=str(key))
    return key


def api_key_revoke_as_staff(*, key: ApiKey, actor: User, now: datetime | None = None) -> ApiKey:
    """Platform staff revoke any tenant's key (admin action); a second revocation is a no-op.

    Staff are usually not members of the tenant, so `api_key_revoke`'s manager check does
    not fit; the audit row records who did it instead.
    """
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff can revoke keys of other organisations.")
    with transaction.atomic():
        locked = (
            ApiKey.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=key.pk)
        )
        if locked.revoked_at is None:
            locked.revoked_at = now or timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_log_record(
                actor=actor,
                org=locked.organization,
                action="api_key.revoke",
                target=str(locked),
                before={"revoked_at": None},
                after={"revoked_at": locked.revoked_at.isoformat()},
            )
    return locked


def api_key_touch_due(*, key: ApiKey, now: datetime | None = None) -> bool:
    """Whether `key`'s last use is over a minute old (hot keys do not write on every request)."""
    now = now or timezone.now()
    return key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60


def api_key_touch(*, key: ApiKey, now: datetime | None = None) -> None:
    """Record use, at most once a minute per key."""
    now = now or timezone.now()
    if api_key_touch_due(key=key, now=now):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def audit_log_record(
    *,
    actor: User | None,
    org: Organization | None,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor,
        organization=org,
        action=action,
        target=target[:200],
        before=before or {},
        after=after or {},
    )
