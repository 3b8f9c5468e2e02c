"""Bearer API keys for DRF, and the organisation a request acts for."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiKey, Organization, User
from accounts.selectors import api_key_get_active
from accounts.services import api_key_touch


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
        key = api_key_get_active(secret=secret) if secret else None
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.", "invalid_api_key")
        api_key_touch(key=key)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def request_org(request: Any) -> Organization:
    """The tenant of an API request: the key's organisation, or the session's current one."""
    if isinstance(request.auth, ApiKey):
        return request.auth.organization
    org = getattr(request, "org", None)
    if org is None:
        raise exceptions.PermissionDenied("You are not a member of any organisation.")
    return org


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
