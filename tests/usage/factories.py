"""Usage factories. Records of a call take their organisation and user from `model_call`.

To put a record in a given tenant, pass `model_call=` (or `model_call__organization=`):
the record never gets an organisation of its own.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.billing.factories import ensure_membership
from tests.routing.factories import AIModelFactory
from usage.models import (
    AbuseFlag,
    AbuseKind,
    CallStatus,
    CostRecord,
    ModelCall,
    MonthlyReport,
    ReportStatus,
    UsageDaily,
    UsageDailyBuild,
    UsageRecord,
)


def first_of_month(n: int) -> datetime.date:
    """The n-th month from January 2024, so each report of one org gets its own month."""
    return datetime.date(2024 + n // 12, n % 12 + 1, 1)


class ModelCallFactory(DjangoModelFactory[ModelCall]):
    """A succeeded call; `provider` always follows `model`, so the two never disagree."""

    class Meta:
        model = ModelCall
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    api_key = None
    conversation = None
    request_id = factory.Sequence(lambda n: f"req-test-{n:08d}")
    attempt = 1
    model = factory.SubFactory(AIModelFactory)
    provider = factory.LazyAttribute(lambda o: o.model.provider)
    assistant_family = "generalist"
    task_type = "chat"
    route_reasons = factory.LazyFunction(lambda: ["cheapest model meeting the bar"])
    status = CallStatus.SUCCEEDED
    latency_ms = 850
    ttft_ms = 220
    input_tokens = 120
    output_tokens = 80
    finished_at = factory.LazyFunction(timezone.now)
    member = factory.PostGeneration(ensure_membership)


class UsageRecordFactory(DjangoModelFactory[UsageRecord]):
    class Meta:
        model = UsageRecord

    model_call = factory.SubFactory(ModelCallFactory)
    organization = factory.LazyAttribute(lambda o: o.model_call.organization)
    user = factory.LazyAttribute(lambda o: o.model_call.user)
    request_id = factory.LazyAttribute(lambda o: o.model_call.request_id)
    type = "tokens"
    quantity = factory.LazyAttribute(lambda o: o.model_call.total_tokens)
    display_units = Decimal("0.0000990000")


class CostRecordFactory(DjangoModelFactory[CostRecord]):
    """Raw cost of 120 in / 80 out tokens at 0.15 / 0.60 USD per million, times 1.5."""

    class Meta:
        model = CostRecord

    model_call = factory.SubFactory(ModelCallFactory)
    organization = factory.LazyAttribute(lambda o: o.model_call.organization)
    raw_cost = Decimal("0.0000660000")
    multiplier = Decimal("1.50")
    display_cost = Decimal("0.0000990000")
    benchmark_cost = Decimal("0.0011000000")
    currency = "USD"


class UsageDailyFactory(DjangoModelFactory[UsageDaily]):
    class Meta:
        model = UsageDaily
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    user = factory.SubFactory(UserFactory)
    assistant_family = "generalist"
    model = factory.SubFactory(AIModelFactory)
    requests = 3
    input_tokens = 360
    output_tokens = 240
    raw_cost = Decimal("0.0001980000")
    display_cost = Decimal("0.0002970000")
    benchmark_cost = Decimal("0.0033000000")
    member = factory.PostGeneration(ensure_membership)


class UsageDailyBuildFactory(DjangoModelFactory[UsageDailyBuild]):
    class Meta:
        model = UsageDailyBuild

    organization = factory.SubFactory(OrganizationFactory)
    day = factory.LazyFunction(lambda: timezone.now().date() - datetime.timedelta(days=1))
    records = 3
    last_record_id = 0
    built_at = factory.LazyFunction(timezone.now)


class MonthlyReportFactory(DjangoModelFactory[MonthlyReport]):
    class Meta:
        model = MonthlyReport

    organization = factory.SubFactory(OrganizationFactory)
    month = factory.Sequence(first_of_month)
    status = ReportStatus.PENDING


class AbuseFlagFactory(DjangoModelFactory[AbuseFlag]):
    class Meta:
        model = AbuseFlag
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    kind = AbuseKind.BLOCKED_PROMPTS
    detail = "6 blocked prompts in 10 minutes"
    member = factory.PostGeneration(ensure_membership)
