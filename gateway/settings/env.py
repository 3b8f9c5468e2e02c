"""The one reader of environment variables: every setting read through it is validated, and a
bad value stops start-up with a message naming the variable (never echoing a secret)."""

from __future__ import annotations

import os
import re
from collections.abc import Collection

from django.core.exceptions import ImproperlyConfigured

_RATE = re.compile(r"^\d+/(?:s|sec|second|m|min|minute|h|hour|d|day)$")
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+$")


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_str(name: str, default: str) -> str:
    return _raw(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name).lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None
    if minimum is not None and not number >= minimum:  # also refuses nan
        raise ImproperlyConfigured(f"{name} must be at least {minimum:g}, got {value!r}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


def env_choice(name: str, default: str, choices: Collection[str]) -> str:
    value = _raw(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as `120/min`."""
    value = _raw(name) or default
    if not _RATE.match(value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 120/min, got {value!r}")
    return value


def env_dotted(name: str, default: str) -> str:
    """A dotted Python path such as `django.core.mail.backends.smtp.EmailBackend`."""
    value = _raw(name) or default
    if not _DOTTED.match(value):
        raise ImproperlyConfigured(f"{name} must be a dotted Python path, got {value!r}")
    return value


def env_url(name: str, default: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    value = _raw(name) or default
    if not value.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        raise ImproperlyConfigured(f"{name} must be a {' or '.join(schemes)} URL")
    return value.rstrip("/")
