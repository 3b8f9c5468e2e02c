"""The balance row equals the ledger's sum whatever writes the ledger."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from billing.models import CreditBalance, CreditLedger, LedgerKind
from billing.selectors import credit_balance
from tests.accounts.factories import OrganizationFactory
from tests.billing.factories import CreditLedgerFactory
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db


def ledger_sum(org: object) -> Decimal:
    return CreditLedger.objects.for_org(org).aggregate(total=Sum("credits"))["total"]


def test_an_organisation_without_ledger_rows_has_zero_credits() -> None:
    assert credit_balance(org=OrganizationFactory()) == Decimal(0)


def test_grants_and_usage_move_the_balance_to_the_ledger_sum() -> None:
    org, other = OrganizationFactory(), OrganizationFactory()
    CreditLedgerFactory(organization=org, credits=Decimal("100.5"))
    CreditLedgerFactory(organization=org, kind=LedgerKind.USAGE, credits=Decimal("-0.0000001"))
    CreditLedgerFactory(organization=other, credits=Decimal("7"))

    assert credit_balance(org=org) == Decimal("100.4999999") == ledger_sum(org)
    assert credit_balance(org=other) == Decimal("7")


def test_deleting_or_correcting_a_row_keeps_the_balance_equal_to_the_sum() -> None:
    org = OrganizationFactory()
    grant = CreditLedgerFactory(organization=org, credits=Decimal("50"))
    usage = CreditLedgerFactory(organization=org, kind=LedgerKind.USAGE, credits=Decimal("-5"))

    CreditLedger.objects.filter(pk=grant.pk).update(credits=Decimal("40"))
    assert credit_balance(org=org) == Decimal("35") == ledger_sum(org)
    usage.delete()
    assert credit_balance(org=org) == Decimal("40") == ledger_sum(org)


def test_there_is_one_balance_row_per_organisation() -> None:
    org = OrganizationFactory()
    for _ in range(3):
        CreditLedgerFactory(organization=org)

    assert CreditBalance.objects.for_org(org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_ledger_rows_of_one_organisation_all_count() -> None:
    org = OrganizationFactory()

    def post(credits: str) -> None:
        with transaction.atomic():
            CreditLedger.objects.create(organization=org, kind=LedgerKind.GRANT, credits=credits)

    run_together(*(lambda c=c: post(c) for c in ["1.5", "2.25", "3", "4", "5.125", "6"]))

    assert credit_balance(org=org) == Decimal("21.875") == ledger_sum(org)
