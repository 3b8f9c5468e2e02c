"""Budget caps: monthly credit limits on an organisation, a member or an API key.

Billing a call adds its credits to the month's BudgetSpend rows (the organisation's, the
member's and the key's) inside `billing_ledger_usage_debit`, and records a BudgetAlert the
first time a cap reaches WARNING_SHARE. A chat reads its balance and the tightest cap on it
in one statement (`budget_sql`), fresh, as it reads credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, Organization, User
from accounts.selectors import membership_get
from accounts.services import audit_log_record, membership_require_manager
from accounts.sql import Sql
from billing.emails import email_on_commit, manager_emails
from billing.models import BudgetAlert, BudgetCap, BudgetSpend
from billing.money import ZERO
from billing.types import Budget, CapLeft

WARNING_SHARE = Decimal("0.8")  # also in billing_ledger_usage_debit (billing/migrations/0007)

_BUDGET = """
SELECT b.credits, cap.user_id, cap.api_key_id, cap.monthly_credits, cap.spent
FROM (SELECT 1) AS one
LEFT JOIN billing_creditbalance b ON b.organization_id = %(org_id)s
LEFT JOIN LATERAL (
    SELECT c.user_id, c.api_key_id, c.monthly_credits, COALESCE(s.credits, 0) AS spent
    FROM billing_budgetcap c
    LEFT JOIN billing_budgetspend s
        ON s.organization_id = c.organization_id AND s.month = %(month)s
        AND s.user_id IS NOT DISTINCT FROM c.user_id
        AND s.api_key_id IS NOT DISTINCT FROM c.api_key_id
    WHERE c.organization_id = %(org_id)s
        AND (c.user_id IS NULL OR c.user_id = %(user_id)s)
        AND (c.api_key_id IS NULL OR c.api_key_id = %(api_key_id)s)
    ORDER BY c.monthly_credits - COALESCE(s.credits, 0)
    LIMIT 1
) AS cap ON true
"""


def budget_month(now: datetime | None = None) -> date:
    """The UTC calendar month caps count in, as its first day."""
    return (now or timezone.now()).astimezone(UTC).date().replace(day=1)


def budget_sql(*, org_id: int, user_id: int, api_key_id: int | None) -> Sql:
    """The organisation's credits left and the tightest cap on this user and key (one row)."""
    params = {"org_id": org_id, "user_id": user_id, "api_key_id": api_key_id}
    return Sql(_BUDGET, {**params, "month": budget_month()})


def budget_parse(row: tuple[Any, ...] | None) -> Budget:
    """`budget_sql`'s row as a Budget."""
    if row is None:
        return Budget(credits_left=ZERO)
    credits, user_id, api_key_id, cap_credits, spent = row
    if cap_credits is None:
        return Budget(credits_left=credits or ZERO)
    scope = "member" if user_id else "api_key" if api_key_id else "organization"
    cap = CapLeft(scope=scope, monthly_credits=cap_credits, spent=spent)
    return Budget(credits_left=credits or ZERO, cap=cap)


@dataclass(frozen=True)
class CapUse:
    """A cap and this month's use under it, for the billing page."""

    cap: BudgetCap
    spent: Decimal

    @property
    def percent(self) -> int:
        if not self.cap.monthly_credits:
            return 100
        return min(int(self.spent * 100 / self.cap.monthly_credits), 100)

    @property
    def warning(self) -> bool:
        return self.spent >= self.cap.monthly_credits * WARNING_SHARE


def budget_caps_in_use(*, org: Organization, now: datetime | None = None) -> list[CapUse]:
    """Every cap of `org` with this month's spend under it: the organisation's first."""
    caps = list(
        BudgetCap.objects.for_org(org)
        .select_related("user", "api_key")
        .order_by("user_id", "api_key_id", "id")
    )
    if not caps:
        return []
    spend = {
        (row.user_id, row.api_key_id): row.credits
        for row in BudgetSpend.objects.for_org(org).filter(month=budget_month(now))
    }
    uses = [CapUse(cap, spend.get((cap.user_id, cap.api_key_id), ZERO)) for cap in caps]
    return sorted(uses, key=lambda use: use.cap.scope != "organization")


def budget_warnings(*, org: Organization, user: User) -> list[CapUse]:
    """The caps on `user`'s own chats (the organisation's and their own) at the warning share."""
    return [
        use
        for use in budget_caps_in_use(org=org)
        if use.warning and use.cap.user_id in (None, user.pk) and use.cap.api_key_id is None
    ]


def budget_cap_set(
    *,
    org: Organization,
    actor: User,
    monthly_credits: Decimal | None,
    user: User | None = None,
    api_key: ApiKey | None = None,
) -> BudgetCap | None:
    """Set (or, with None, remove) the monthly cap on `org`, one member or one key; audited.

    Only owners and admins may; the member or key must belong to `org`.
    """
    membership_require_manager(org=org, user=actor)
    if user is not None and api_key is not None:
        raise ValidationError({"user": "A cap is on a member or on an API key, not both."})
    if user is not None and membership_get(org=org, user=user) is None:
        raise ValidationError({"user": "Not a member of this organisation."})
    if api_key is not None and api_key.organization_id != org.pk:
        raise ValidationError({"api_key": "Not a key of this organisation."})
    if monthly_credits is not None and monthly_credits < 0:
        raise ValidationError({"monthly_credits": "A cap cannot be negative."})
    with transaction.atomic():
        existing = (
            BudgetCap.objects.for_org(org)
            .select_for_update()
            .filter(user=user, api_key=api_key)
            .first()
        )
        before = {"monthly_credits": str(existing.monthly_credits)} if existing else {}
        if monthly_credits is None:
            if existing is not None:
                existing.delete()
            cap = None
        elif existing is None:
            cap = BudgetCap.objects.create(
                organization=org, user=user, api_key=api_key, monthly_credits=monthly_credits
            )
        else:
            existing.monthly_credits = monthly_credits
            existing.save(update_fields=["monthly_credits", "updated_at"])
            cap = existing
        audit_log_record(
            actor=actor,
            org=org,
            action="budget_cap.set" if cap else "budget_cap.remove",
            target=_cap_target(user=user, api_key=api_key),
            before=before,
            after={"monthly_credits": str(monthly_credits)} if cap else {},
        )
    return cap


def _cap_target(*, user: User | None, api_key: ApiKey | None) -> str:
    if user is not None:
        return f"member {user.email}"
    if api_key is not None:
        return f"API key {api_key.prefix}"
    return "organisation"


def budget_alerts_send(*, now: datetime | None = None) -> int:
    """E-mail each cap that reached its warning share (beat, every minute): the owners and
    admins, and the member whose cap or key it is. Each alert is sent once."""
    now = now or timezone.now()
    sent = 0
    for alert_id in BudgetAlert.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            alert = (
                BudgetAlert.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("organization", "cap__user", "cap__api_key__user")
                .filter(pk=alert_id, sent_at__isnull=True)
                .first()
            )
            if alert is None:
                continue  # another run has it
            _alert_email(alert)
            alert.sent_at = now
            alert.save(update_fields=["sent_at"])
            sent += 1
    return sent


def _alert_email(alert: BudgetAlert) -> None:
    cap, org = alert.cap, alert.organization
    spent = (
        BudgetSpend.objects.for_org(org)
        .filter(month=alert.month, user=cap.user, api_key=cap.api_key)
        .values_list("credits", flat=True)
        .first()
    ) or ZERO
    owner = cap.user or (cap.api_key.user if cap.api_key else None)
    use = CapUse(cap, spent)
    email_on_commit(
        to=[*manager_emails(org), owner.email if owner else ""],
        subject=f"{org.name}: {use.percent}% of a monthly budget cap used",
        template="budget_alert",
        org=org,
        cap=cap,
        spent=spent,
        percent=use.percent,
        whose=cap_subject(cap),
        month=alert.month,
    )


def cap_subject(cap: BudgetCap) -> str:
    """Whose cap, for people who manage them: "the organisation's", "ana@example.com's"."""
    if cap.user is not None:
        return f"{cap.user.email}'s"
    if cap.api_key is not None:
        return f"API key {cap.api_key.prefix}'s"
    return "the organisation's"
