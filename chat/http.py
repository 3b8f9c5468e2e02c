"""What the chat's HTTP surfaces (`/api/ai/*` under Django, `/v1` under Starlette) share:
bodies parsed once, serializers' errors naming the field, request ids, SSE framing."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from accounts.errors import ApplicationError, first_field_error
from accounts.request_context import (
    request_context_current,
    request_id_bind,
    request_id_new,
    request_id_sane,
)
from usage.models import END_USER_MAX

END_USER_HEADER = "X-Switchboard-End-User"


def json_parse(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApplicationError(f"Body is not valid JSON: {error}") from None


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """The serializer's validated data, or a 400 naming the first bad field."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        param, message = first_field_error(serializer.errors)
        raise ApplicationError(
            f"{param}: {message}" if param else message, {"param": param or None}
        )
    return dict(serializer.validated_data)


def request_id_parse(given: str | None) -> tuple[str, bool]:
    """The request's id, and whether the client chose it (then a second request with it is a
    replay): the Idempotency-Key, else the edge's id (the caller's sane X-Request-Id, or one
    made for it). An Idempotency-Key becomes the request's id in logs and headers too."""
    if given is None:
        context = request_context_current()
        return (context.request_id, context.incoming) if context else (request_id_new(), False)
    if not request_id_sane(given):
        raise ApplicationError(
            "Idempotency-Key: 1 to 64 letters, digits or _.:-", {"param": "Idempotency-Key"}
        )
    request_id_bind(given)
    return given, True


def end_user_parse(*, field: str | None, header: str | None) -> str:
    """Who the call is for in the customer's product: /v1's `user` field, else the
    X-Switchboard-End-User header; optional, surrounding space dropped, at most 128 chars."""
    for param, value in (("user", field), (END_USER_HEADER, header)):
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApplicationError(f"{param}: must be a string", {"param": param})
        value = value.strip()
        if len(value) > END_USER_MAX:
            raise ApplicationError(f"{param}: at most {END_USER_MAX} characters", {"param": param})
        if value:
            return value
    return ""


def cache_allowed(cache_control: str | None) -> bool:
    """False when the client asked for a fresh answer: `Cache-Control: no-cache` (or
    `no-store`), as HTTP caches read it."""
    directives = {d.strip().split("=")[0].lower() for d in (cache_control or "").split(",")}
    return not directives & {"no-cache", "no-store"}


def sse(data: dict[str, Any] | str, event: str | None = None) -> str:
    """One server-sent event."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def bearer_secret(authorization: str) -> str | None:
    """The key in `Authorization: Bearer <key>`, or None for any other header."""
    scheme, _, secret = authorization.partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None
