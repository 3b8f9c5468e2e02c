"""Bearer API keys for DRF, and the organisation a request acts for."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiKey, Organization, User
from accounts.selectors import api_key_get_active, secret_sha256
from accounts.services import api_key_touch
from accounts.snapshots import SnapshotCache

_live_keys: SnapshotCache[ApiKey] = SnapshotCache(maxsize=10_000)


def api_key_cached(secret: str) -> ApiKey | None:
    """The live key with this secret if this process saw it within the TTL; no database."""
    return _live_keys.get(secret_sha256(secret))


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The live key with this secret (reused for SNAPSHOT_TTL_SECONDS, so a revocation reaches
    every process within it), its use recorded at most once a minute. None is never cached."""
    key = api_key_cached(secret)
    if key is None:
        key = api_key_get_active(secret=secret)
        if key is None:
            return None
        _live_keys.put(secret_sha256(secret), key)
    api_key_touch(key=key)
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer sb_...`. Unknown or revoked keys get 401, never a fallback."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        secret = secret.strip()
        key = api_key_authenticate(secret) if secret else None
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.", "invalid_api_key")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def request_org(request: Any) -> Organization:
    """The tenant of an API request: the key's organisation, or the session's current one."""
    if isinstance(request.auth, ApiKey):
        return request.auth.organization
    org: Organization | None = getattr(request, "org", None)
    if org is None:
        raise exceptions.PermissionDenied("You are not a member of any organisation.")
    return org


def request_user(request: Request) -> User:
    """The caller of an API request behind `IsAuthenticated` (the default): never anonymous."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes bearer API keys in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organisation API key (sb_...), created at /app/keys/",
        }
