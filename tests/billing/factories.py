"""Billing factories. Plans are global catalog rows; everything else belongs to one tenant.

Tenant-owned rows with a `user` make that user a member of the same organisation (a
`member=False` keyword skips it), so a factory never leaves a user outside the tenant.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Membership
from billing.models import (
    BudgetAlert,
    BudgetCap,
    BudgetSpend,
    CreditBalance,
    CreditLedger,
    LedgerKind,
    Plan,
    PlanRequest,
    PlanRequestStatus,
    Subscription,
    SubscriptionStatus,
    UserEntitlement,
)
from tests.accounts.factories import OrganizationFactory, UserFactory


def ensure_membership(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
    """Post-generation hook: make `obj.user` a member of `obj.organization` unless told not to."""
    if create and extracted is not False and obj.user_id is not None:
        Membership.objects.get_or_create(user_id=obj.user_id, organization_id=obj.organization_id)


class PlanFactory(DjangoModelFactory[Plan]):
    class Meta:
        model = Plan

    slug = factory.Sequence(lambda n: f"test-plan-{n}")
    name = factory.Sequence(lambda n: f"Test plan {n}")
    monthly_credits = Decimal("1000.00")
    display_multiplier = Decimal("1.50")
    allowed_families = factory.LazyFunction(list)
    allowed_models = factory.LazyFunction(list)
    allowed_modes = factory.LazyFunction(lambda: ["auto", "cost"])
    max_context = 32_000
    rpm = 60
    max_concurrency = 4


class SubscriptionFactory(DjangoModelFactory[Subscription]):
    """One live subscription per org is enforced by the database: pass `status=` for more."""

    class Meta:
        model = Subscription

    organization = factory.SubFactory(OrganizationFactory)
    plan = factory.SubFactory(PlanFactory)
    status = SubscriptionStatus.ACTIVE
    current_period_start = factory.LazyFunction(timezone.now)
    current_period_end = factory.LazyAttribute(
        lambda o: o.current_period_start + timedelta(days=30)
    )


class UserEntitlementFactory(DjangoModelFactory[UserEntitlement]):
    class Meta:
        model = UserEntitlement
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    extra_families = factory.LazyFunction(list)
    extra_models = factory.LazyFunction(list)
    note = "test override"
    member = factory.PostGeneration(ensure_membership)


class PlanRequestFactory(DjangoModelFactory[PlanRequest]):
    class Meta:
        model = PlanRequest
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    requested_plan = factory.SubFactory(PlanFactory)
    reason = "We need more credits for the launch."
    status = PlanRequestStatus.PENDING
    member = factory.PostGeneration(ensure_membership)


class CreditLedgerFactory(DjangoModelFactory[CreditLedger]):
    """A grant by default; pass `kind=LedgerKind.USAGE, credits=Decimal("-1.5")` for a debit.

    With `model_call=` the row takes that call's organisation and user.
    """

    class Meta:
        model = CreditLedger

    model_call = None
    organization = factory.Maybe(
        "model_call",
        yes_declaration=factory.LazyAttribute(lambda o: o.model_call.organization),
        no_declaration=factory.SubFactory(OrganizationFactory),
    )
    user = factory.Maybe(
        "model_call", yes_declaration=factory.LazyAttribute(lambda o: o.model_call.user)
    )
    kind = LedgerKind.GRANT
    credits = Decimal("100.00")
    note = "test grant"


class CreditBalanceFactory(DjangoModelFactory[CreditBalance]):
    """The balance the ledger trigger keeps: made by posting a grant of `credits`."""

    class Meta:
        model = CreditBalance

    organization = factory.SubFactory(OrganizationFactory)
    credits = Decimal("100.00")

    @classmethod
    def _create(cls, model_class: type[CreditBalance], *args: Any, **kwargs: Any) -> CreditBalance:
        CreditLedgerFactory(organization=kwargs["organization"], credits=kwargs["credits"])
        return model_class.objects.get(organization=kwargs["organization"])


class BudgetCapFactory(DjangoModelFactory[BudgetCap]):
    """An organisation-wide cap; pass `user=` or `api_key=` for a member's or a key's."""

    class Meta:
        model = BudgetCap

    organization = factory.SubFactory(OrganizationFactory)
    monthly_credits = Decimal("50.00")


class BudgetSpendFactory(DjangoModelFactory[BudgetSpend]):
    class Meta:
        model = BudgetSpend

    organization = factory.SubFactory(OrganizationFactory)
    month = factory.LazyFunction(lambda: timezone.now().date().replace(day=1))
    credits = Decimal("10.00")


class BudgetAlertFactory(DjangoModelFactory[BudgetAlert]):
    class Meta:
        model = BudgetAlert

    cap = factory.SubFactory(BudgetCapFactory)
    organization = factory.LazyAttribute(lambda o: o.cap.organization)
    month = factory.LazyFunction(lambda: timezone.now().date().replace(day=1))
