"""FinOps figures: credits, benchmark cost and savings of a period, by day and by dimension.

Closed days come from the UsageDaily rollups; a day the rollup has not built yet (today,
always) is summed live from the records with the same aggregates the rollup uses, so the two
always agree. Raw provider cost is carried for staff; customers' figures are in credits.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from accounts.errors import ApplicationError
from accounts.models import ApiKey, Membership, Organization, Role, User
from billing.money import ZERO
from routing.models import AIModel, Assistant, PromptCheck
from routing.selectors import benchmark_prices
from usage.models import CallStatus, UsageDaily, UsageDailyBuild, UsageRecord

MAX_PERIOD_DAYS = 366
VIEWER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
REPORT_ROLES = frozenset({Role.OWNER, Role.FINANCE})
CENT = Decimal("0.01")

_PRODUCT = DecimalField(max_digits=40, decimal_places=20)
# What a set of records adds up to; the rollup stores exactly these sums (same names).
RECORD_FIGURES: dict[str, Any] = {
    "requests": Count("id"),
    "cache_hits": Count("id", filter=Q(model_call__status=CallStatus.CACHED)),
    "fallbacks": Count("id", filter=Q(model_call__attempt__gt=1)),
    "input_tokens": Sum("model_call__input_tokens"),
    "output_tokens": Sum("model_call__output_tokens"),
    "raw_cost": Sum("model_call__cost__raw_cost"),
    "display_cost": Sum("display_units"),
    "benchmark_cost": Sum("model_call__cost__benchmark_cost"),
    "benchmark_credits": Sum(
        F("model_call__cost__benchmark_cost") * F("model_call__cost__multiplier"),
        output_field=_PRODUCT,
    ),
}
# A rollup row's dimension -> where the records keep it.
RECORD_DIMENSIONS = {
    "user_id": "user_id",
    "api_key_id": "model_call__api_key_id",
    "end_user": "model_call__end_user",
    "assistant_family": "model_call__assistant_family",
    "task_type": "model_call__task_type",
    "model_id": "model_call__model_id",
}
BREAKDOWNS = {  # the tables of the page, the CSV files and the report
    "member": "user_id",
    "end_user": "end_user",
    "assistant": "assistant_family",
    "model": "model_id",
    "task_type": "task_type",
    "api_key": "api_key_id",
}


@dataclass(frozen=True)
class Figures:
    requests: int = 0
    cache_hits: int = 0
    fallbacks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    raw_cost: Decimal = ZERO  # USD, staff only
    credits: Decimal = ZERO
    benchmark_cost: Decimal = ZERO  # USD, staff only
    benchmark_credits: Decimal = ZERO  # what the benchmark model would have cost, in credits

    @classmethod
    def of(cls, row: dict[str, Any]) -> Figures:
        """From one aggregate row (records or rollups: the same names)."""
        return cls(
            requests=row["requests"] or 0,
            cache_hits=row["cache_hits"] or 0,
            fallbacks=row["fallbacks"] or 0,
            input_tokens=row["input_tokens"] or 0,
            output_tokens=row["output_tokens"] or 0,
            raw_cost=row["raw_cost"] or ZERO,
            credits=row["display_cost"] or ZERO,
            benchmark_cost=row["benchmark_cost"] or ZERO,
            benchmark_credits=row["benchmark_credits"] or ZERO,
        )

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def savings(self) -> Decimal:
        """USD saved against the benchmark model (staff only: it reveals raw cost)."""
        return self.benchmark_cost - self.raw_cost

    @property
    def savings_credits(self) -> Decimal:
        return self.benchmark_credits - self.credits

    @property
    def savings_rate(self) -> Decimal:
        """Savings as a share of the benchmark cost, 0..1 (0 with nothing to compare)."""
        if not self.benchmark_credits:
            return ZERO
        return self.savings_credits / self.benchmark_credits

    @property
    def savings_percent(self) -> Decimal:
        """The savings rate as a percentage to one place, as pages and reports show it."""
        return (self.savings_rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Period:
    """Whole UTC days, `first` to `last` inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("to: must not be before from")
        if (self.last - self.first).days >= MAX_PERIOD_DAYS:
            raise ValueError(f"to: a period is at most {MAX_PERIOD_DAYS} days")

    @classmethod
    def month(cls, first: date) -> Period:
        last_day = calendar.monthrange(first.year, first.month)[1]
        return cls(first.replace(day=1), first.replace(day=last_day))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class DayFigures:
    day: date
    figures: Figures


@dataclass(frozen=True)
class BreakdownRow:
    key: str  # the dimension's value ("" when the calls had none)
    label: str  # what a person reads: email, assistant name, model name...
    figures: Figures


def cents(amount: Decimal) -> Decimal:
    """An amount to the cent, half up: how pages, CSV files and reports show money."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def finops_role(*, org: Organization, user: User) -> str:
    """The caller's role in `org` ("" for non-members): who may see FinOps figures."""
    role = Membership.objects.for_org(org).filter(user=user).values_list("role", flat=True).first()
    return role or ""


def finops_totals(*, org: Organization, period: Period) -> Figures:
    """The period's headline figures."""
    merged = _grouped(org=org, period=period, dimension=None)
    return merged.get(None, Figures())


def finops_daily(*, org: Organization, period: Period) -> list[DayFigures]:
    """One entry per day of the period, empty days included."""
    merged = _grouped(org=org, period=period, dimension="day")
    return [DayFigures(day, merged.get(day, Figures())) for day in period.days]


def finops_breakdown(*, org: Organization, period: Period, by: str) -> list[BreakdownRow]:
    """The period's figures by member, end user, assistant, model, task type or API key,
    most credits first."""
    dimension = BREAKDOWNS[by]
    merged = _grouped(org=org, period=period, dimension=dimension)
    labels = _labels(org=org, by=by, keys=[k for k in merged if k is not None])
    rows = [
        BreakdownRow(
            key="" if key is None else str(key),
            label=labels.get(key, str(key)) if key not in (None, "") else _NONE_LABEL[by],
            figures=figures,
        )
        for key, figures in merged.items()
    ]
    return sorted(rows, key=lambda r: (-r.figures.credits, r.label))


def finops_blocked_prompts(*, org: Organization, period: Period) -> int:
    """Prompts the security shield refused in the period (never billed, so not in rollups)."""
    return (
        PromptCheck.objects.for_org(org)
        .filter(at__gte=period.start, at__lt=period.end, blocked=True)
        .count()
    )


def model_tier(*, output_cost_per_mtok: Decimal) -> str:
    """economy (under a tenth of the benchmark model's output price), standard (under it)
    or frontier."""
    benchmark_output = benchmark_prices()[1]
    if output_cost_per_mtok * 10 < benchmark_output:
        return "economy"
    return "standard" if output_cost_per_mtok < benchmark_output else "frontier"


def finops_tiers(*, org: Organization, period: Period) -> dict[str, int]:
    """Requests per model tier (economy, standard, frontier) in the period."""
    tiers = dict.fromkeys(("economy", "standard", "frontier"), 0)
    by_model = _grouped(org=org, period=period, dimension="model_id")
    prices = dict(
        AIModel.objects.filter(pk__in=[k for k in by_model if k is not None]).values_list(
            "pk", "output_cost_per_mtok"
        )
    )
    for model_id, figures in by_model.items():
        if model_id in prices:
            tiers[model_tier(output_cost_per_mtok=prices[model_id])] += figures.requests
    return tiers


# Reading ---------------------------------------------------------------------------------


def _grouped(*, org: Organization, period: Period, dimension: str | None) -> dict[Any, Figures]:
    """Figures per value of `dimension` (None: one total under the key None): built days
    from the rollups, the other days live from the records."""
    built = set(
        UsageDailyBuild.objects.for_org(org)
        .filter(day__gte=period.first, day__lte=period.last)
        .values_list("day", flat=True)
    )
    merged: dict[Any, Figures] = {}
    rollups = UsageDaily.objects.for_org(org).filter(
        day__gte=period.first, day__lte=period.last, day__in=built
    )
    for key, figures in _sums(rollups, dimension, _ROLLUP_FIGURES):
        merged[key] = merged.get(key, Figures()) + figures
    live_days = [day for day in period.days if day not in built]
    if live_days:
        records = records_on_days(org=org, days=live_days)
        live_dimension = RECORD_DIMENSIONS.get(dimension or "", dimension)
        for key, figures in _sums(records, live_dimension, RECORD_FIGURES):
            merged[key] = merged.get(key, Figures()) + figures
    return merged


def records_on_days(*, org: Organization, days: list[date]) -> QuerySet[Any]:
    # QuerySet[Any]: callers group by the `day` annotation, which the model does not have.
    """The org's billed records of these UTC days, annotated with `day`."""
    start = datetime.combine(min(days), time.min, tzinfo=UTC)
    end = datetime.combine(max(days) + timedelta(days=1), time.min, tzinfo=UTC)
    return (
        UsageRecord.objects.for_org(org)
        .filter(at__gte=start, at__lt=end)
        .annotate(day=TruncDate("at", tzinfo=UTC))
        .filter(day__in=days)
    )


_ROLLUP_FIGURES: dict[str, Any] = {name: Sum(name) for name in RECORD_FIGURES}


def _sums(
    rows: QuerySet[Any], dimension: str | None, figures: dict[str, Any]
) -> list[tuple[Any, Figures]]:
    if dimension is None:
        total = rows.aggregate(**figures)
        return [(None, Figures.of(total))] if total["requests"] else []
    grouped = rows.values(dimension).annotate(**figures).order_by()
    return [(row[dimension], Figures.of(row)) for row in grouped]


_NONE_LABEL = {
    "member": "(removed member)",
    "end_user": "(not sent)",
    "assistant": "Direct model",
    "model": "(unknown model)",
    "task_type": "(unclassified)",
    "api_key": "Browser chat (no key)",
}


def _labels(*, org: Organization, by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "member":
        return dict(User.objects.filter(pk__in=keys).values_list("pk", "email"))
    if by == "api_key":
        return {
            pk: f"{name} ({prefix}…)"
            for pk, name, prefix in ApiKey.objects.for_org(org)
            .filter(pk__in=keys)
            .values_list("pk", "name", "prefix")
        }
    if by == "assistant":
        return dict(Assistant.objects.filter(family__in=keys).values_list("family", "name"))
    if by == "model":
        return dict(AIModel.objects.filter(pk__in=keys).values_list("pk", "display_name"))
    if by == "task_type":
        return {key: str(key).replace("_", " ") for key in keys}
    return {key: str(key) for key in keys}


def period_parse(*, first: str | None, last: str | None, today: date) -> Period:
    """`from` and `to` (YYYY-MM-DD, both inclusive) as a Period: `from` defaults to the first
    of this month, `to` to the last day of `from`'s month. Errors name the field."""
    start = _date_param("from", first) or today.replace(day=1)
    end = _date_param("to", last) or Period.month(start).last
    try:
        return Period(start, end)
    except ValueError as error:
        raise ApplicationError(str(error), {"param": "to"}) from None


def _date_param(name: str, text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApplicationError(f"{name}: use a date as YYYY-MM-DD", {"param": name}) from None
