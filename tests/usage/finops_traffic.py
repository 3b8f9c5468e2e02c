"""A month of metered calls through the real metering services, and the truth to check the
FinOps figures against: plain sums over the UsageRecord and CostRecord rows."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from accounts.models import ApiKey, Organization, User
from routing.models import AIModel
from usage.finops import Period
from usage.models import CallStatus, UsageRecord
from usage.services import model_call_finish, model_call_start

MONTH = date(2026, 3, 1)  # a closed month, whatever day the tests run on
MODELS = ("sim/economy", "sim/standard", "sim/frontier", "openai/gpt-4o-mini")
FAMILIES = ("generalist", "coder", "writer", "")
TASKS = ("chat", "coding", "summarization", "math")
MULTIPLIER = Decimal("1200")


@dataclass
class Truth:
    """What the records say, accumulated per key; amounts exact (Decimal)."""

    requests: int = 0
    tokens: int = 0
    credits: Decimal = Decimal(0)
    benchmark_credits: Decimal = Decimal(0)
    raw_cost: Decimal = Decimal(0)
    benchmark_cost: Decimal = Decimal(0)

    @property
    def savings_credits(self) -> Decimal:
        return self.benchmark_credits - self.credits


@dataclass
class Traffic:
    org: Organization
    members: list[User]
    end_users: list[str]
    keys: list[ApiKey | None]
    calls: int = 0
    # Seeded: the same traffic every run, not for anything secret.
    rng: random.Random = field(default_factory=lambda: random.Random(12))  # noqa: S311


def call_bill(
    traffic: Traffic,
    *,
    at: datetime,
    user: User,
    end_user: str,
    model: AIModel,
    family: str,
    task: str,
    key: ApiKey | None,
    attempt: int = 1,
) -> None:
    """One request opened and billed by the metering services, finished at `at`."""
    traffic.calls += 1
    request_id = f"{traffic.org.slug}-{traffic.calls:05d}"
    call = model_call_start(
        org=traffic.org,
        user=user,
        api_key=key,
        conversation_id=None,
        request_id=request_id,
        attempt=attempt,
        fallback_of_id=None,
        provider_id=model.provider_id,
        model_id=model.pk,
        assistant_family=family,
        task_type=task,
        route_reasons=["test traffic"],
        deadline_at=None,
        display_multiplier=MULTIPLIER,
        end_user=end_user,
    )
    model_call_finish(
        org=traffic.org,
        call_id=call.pk,
        request_id=request_id,
        status=CallStatus.SUCCEEDED,
        input_tokens=traffic.rng.randint(50, 4_000),
        output_tokens=traffic.rng.randint(20, 2_500),
        latency_ms=900,
        ttft_ms=200,
        incomplete=False,
        now=at,
    )


def month_generate(traffic: Traffic, *, per_day: int = 4) -> None:
    """`per_day` (+0..2) requests on every day of MONTH, spread over members, end users,
    keys, models, families and task types; about one in ten answered by a fallback."""
    rng = traffic.rng
    models = list(AIModel.objects.filter(slug__in=MODELS))
    for day in Period.month(MONTH).days:
        for _ in range(per_day + rng.randint(0, 2)):
            minute = rng.randint(0, 24 * 60 - 1)
            call_bill(
                traffic,
                at=datetime.combine(day, time(minute // 60, minute % 60), tzinfo=UTC),
                user=rng.choice(traffic.members),
                end_user=rng.choice(traffic.end_users),
                model=rng.choice(models),
                family=rng.choice(FAMILIES),
                task=rng.choice(TASKS),
                key=rng.choice(traffic.keys),
                attempt=2 if rng.random() < 0.1 else 1,
            )


def truth(
    org: Organization, period: Period, key: Callable[[UsageRecord], Any] = lambda r: None
) -> dict[Any, Truth]:
    """Sums over the org's records of the period, grouped by `key(record)`."""
    start = datetime.combine(period.first, time.min, tzinfo=UTC)
    end = datetime.combine(period.last + timedelta(days=1), time.min, tzinfo=UTC)
    records = (
        UsageRecord.objects.for_org(org)
        .filter(at__gte=start, at__lt=end)
        .select_related("model_call__cost", "model_call__model", "user")
    )
    sums: dict[Any, Truth] = defaultdict(Truth)
    for record in records:
        cost = record.model_call.cost
        entry = sums[key(record)]
        entry.requests += 1
        entry.tokens += record.model_call.total_tokens
        entry.credits += record.display_units
        entry.benchmark_credits += cost.benchmark_cost * cost.multiplier
        entry.raw_cost += cost.raw_cost
        entry.benchmark_cost += cost.benchmark_cost
    return dict(sums)


def money(amount: Decimal) -> str:
    """How pages and the PDF print an amount: to the cent, half up, thousands separated."""
    return f"{amount.quantize(Decimal('0.01'), rounding='ROUND_HALF_UP'):,.2f}"


class Tables(HTMLParser):
    """The text of each cell of each table with a data-testid, row by row."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("data-testid") or None
            if self._table:
                self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif self._table and tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
