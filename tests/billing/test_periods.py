"""Credit periods we bill ourselves: the beat task opens each next period once, granting the
plan's credits, and the ledger says whether unused credits expired or rolled over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import Organization
from billing.models import CreditLedger, LedgerKind, Plan
from billing.periods import month_after, subscription_start, subscriptions_renew_due
from billing.selectors import credit_balance, subscription_get_live
from tests.accounts.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
NOV = datetime(2026, 11, 14, 9, 30, tzinfo=UTC)
DEC_START = datetime(2026, 12, 1, tzinfo=UTC)


def _org_on(plan_slug: str) -> Organization:
    org = OrganizationFactory()
    subscription_start(org=org, plan=Plan.objects.get(slug=plan_slug), now=NOV)
    return org


def _spend(org: Organization, credits: str) -> None:
    CreditLedger.objects.create(
        organization=org, kind=LedgerKind.ADJUSTMENT, credits=-Decimal(credits), note="used"
    )


def test_the_next_period_opens_once_with_the_plans_credits_and_unused_ones_expire() -> None:
    org = _org_on("pro")
    _spend(org, "10000")

    moved = [subscriptions_renew_due(now=DEC_START + timedelta(minutes=m)) for m in (1, 2)]

    assert moved == [1, 0]
    live = subscription_get_live(org=org)
    assert live is not None
    assert (live.current_period_start, live.current_period_end) == (
        DEC_START,
        month_after(DEC_START),
    )
    pro = Plan.objects.get(slug="pro").monthly_credits
    assert credit_balance(org=org) == pro
    expiry = CreditLedger.objects.for_org(org).get(kind=LedgerKind.EXPIRY)
    assert expiry.credits == -(pro - 10000)
    grant = CreditLedger.objects.for_org(org).filter(kind=LedgerKind.GRANT).latest("id")
    assert grant.note == "Pro plan credits for 2026-12 (20,000.00 unused credits expired)"


def test_a_rolling_plan_carries_unused_credits_and_says_so() -> None:
    Plan.objects.filter(slug="team").update(credits_roll_over=True)
    org = _org_on("team")
    _spend(org, "50000")

    subscriptions_renew_due(now=DEC_START + timedelta(hours=1))

    team = Plan.objects.get(slug="team").monthly_credits
    assert credit_balance(org=org) == 2 * team - 50000
    assert not CreditLedger.objects.for_org(org).filter(kind=LedgerKind.EXPIRY).exists()
    grant = CreditLedger.objects.for_org(org).filter(kind=LedgerKind.GRANT).latest("id")
    assert "100,000.00 unused credits rolled over" in grant.note


def test_a_period_not_over_is_left_alone() -> None:
    org = _org_on("pro")
    before = credit_balance(org=org)

    assert subscriptions_renew_due(now=DEC_START - timedelta(seconds=1)) == 0
    assert credit_balance(org=org) == before


def test_a_beat_that_was_down_for_months_grants_only_the_current_period() -> None:
    org = _org_on("free")
    march = datetime(2027, 3, 5, tzinfo=UTC)

    subscriptions_renew_due(now=march)

    live = subscription_get_live(org=org)
    assert live is not None and live.current_period_start == datetime(2027, 3, 1, tzinfo=UTC)
    grants = CreditLedger.objects.for_org(org).filter(kind=LedgerKind.GRANT).count()
    assert grants == 2  # November's and March's


def test_renewing_one_organisation_leaves_another_alone() -> None:
    due, later = _org_on("pro"), OrganizationFactory()
    subscription_start(org=later, plan=Plan.objects.get(slug="pro"), now=DEC_START)
    before = list(CreditLedger.objects.for_org(later).values_list("id", flat=True))

    subscriptions_renew_due(now=DEC_START + timedelta(hours=1))

    assert list(CreditLedger.objects.for_org(later).values_list("id", flat=True)) == before
    assert CreditLedger.objects.for_org(due).filter(kind=LedgerKind.GRANT).count() == 2


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 31, 8, tzinfo=UTC), datetime(2026, 2, 28, 8, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
    ],
)
def test_month_after_keeps_the_time_and_clips_the_day(moment: datetime, expected: datetime) -> None:
    assert month_after(moment) == expected
