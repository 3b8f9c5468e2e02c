"""Money and credits: Decimal only, one field shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.expressions import Combinable

ZERO = Decimal("0")
CURRENCY = "USD"


def money_field(**kwargs: Any) -> models.DecimalField[str | float | Decimal | Combinable, Decimal]:
    """A high-precision amount (raw cost to 10 places)."""
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(max_digits=20, decimal_places=10, **kwargs)


def price_field(**kwargs: Any) -> models.DecimalField[str | float | Decimal | Combinable, Decimal]:
    """A non-negative price or multiplier."""
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(
        max_digits=20, decimal_places=10, validators=[MinValueValidator(ZERO)], **kwargs
    )
