"""The one base error and the one place API errors become JSON.

Every error body has OpenAI's shape, `{"error": {"message", "type", "code", "param"}}`,
so SDK clients and our own pages read them the same way.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    error_type = "invalid_request_error"
    code = "bad_request"

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    @property
    def headers(self) -> dict[str, str]:
        return {}


def error_body(
    message: str, *, error_type: str, code: str, param: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": error_type, "code": code, "param": param, **extra}
    }


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
}


def first_field_error(detail: Any, path: str = "") -> tuple[str, str]:
    """('prompt', 'This field is required.') from DRF's nested ValidationError detail."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        name = path if key == "non_field_errors" else f"{path}.{key}" if path else str(key)
        return first_field_error(value, name)
    if isinstance(detail, list) and detail:
        return first_field_error(detail[0], path)
    return path, str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = error_body(exc.message, error_type=exc.error_type, code=exc.code, **exc.extra)
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    error_type = _TYPES.get(response.status_code, "api_error")
    if isinstance(exc, exceptions.ValidationError):
        param, message = first_field_error(exc.detail)
        response.data = error_body(
            f"{param}: {message}" if param else message,
            error_type=error_type,
            code="invalid_field",
            param=param or None,
            fields=exc.detail,
        )
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = error_body(str(exc.detail), error_type=error_type, code=str(code))
    return response
