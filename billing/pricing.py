"""What one model call costs: raw provider cost, the credits shown, and the benchmark price.

All Decimal. Amounts are kept to the 10 places the money columns store (`money_field`), so
the values returned here are exactly what the database will hold and ledger sums match to
the last digit. That is storage precision, not rounding to cents, which happens once, at
invoice time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

PER_MILLION = Decimal(1_000_000)
STORAGE_QUANTUM = Decimal("1E-10")


@dataclass(frozen=True)
class CallCost:
    raw_cost: Decimal  # USD the provider charges us; staff only
    display_cost: Decimal  # credits the customer sees: raw_cost x multiplier
    multiplier: Decimal
    benchmark_cost: Decimal  # the same tokens at the benchmark model's prices, in USD


def price_call(
    *,
    input_tokens: int,
    output_tokens: int,
    input_cost_per_mtok: Decimal,
    output_cost_per_mtok: Decimal,
    multiplier: Decimal,
    benchmark_input_per_mtok: Decimal,
    benchmark_output_per_mtok: Decimal,
) -> CallCost:
    """Price one call exactly in Decimal; floats are refused so no binary rounding sneaks in."""
    _check_tokens(input_tokens, output_tokens)
    for amount in (
        input_cost_per_mtok,
        output_cost_per_mtok,
        multiplier,
        benchmark_input_per_mtok,
        benchmark_output_per_mtok,
    ):
        _check_amount(amount)
    # 38 digits hold any token count times any price the columns allow, without rounding.
    with localcontext() as ctx:
        ctx.prec = 38
        raw = _tokens_cost(input_tokens, output_tokens, input_cost_per_mtok, output_cost_per_mtok)
        benchmark = _tokens_cost(
            input_tokens, output_tokens, benchmark_input_per_mtok, benchmark_output_per_mtok
        )
        return CallCost(
            raw_cost=_stored(raw),
            display_cost=_stored(raw * multiplier),
            multiplier=Decimal(multiplier),
            benchmark_cost=_stored(benchmark),
        )


def _tokens_cost(
    input_tokens: int, output_tokens: int, input_per_mtok: Decimal, output_per_mtok: Decimal
) -> Decimal:
    return (input_tokens * input_per_mtok + output_tokens * output_per_mtok) / PER_MILLION


def _stored(amount: Decimal) -> Decimal:
    return amount.quantize(STORAGE_QUANTUM, rounding=ROUND_HALF_UP)


def _check_tokens(*counts: int) -> None:
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"Token counts are non-negative integers, got {count!r}")


def _check_amount(amount: object) -> None:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"Prices and multipliers must be Decimal, got {type(amount).__name__}")
    if amount < 0:
        raise ValueError(f"Prices and multipliers cannot be negative, got {amount}")
