"""The balance a chat reads, fresh on every request: one indexed row, kept by a trigger on the
append-only ledger (see CreditBalance). A billed call debits the ledger through the database
function `billing_ledger_usage_debit` (billing/migrations/0006_ledger_usage_debit.py)."""

from __future__ import annotations

from accounts.sql import Sql

_BALANCE = "SELECT credits FROM billing_creditbalance WHERE organization_id = %(org_id)s"


def credit_balance_sql(*, org_id: int) -> Sql:
    """The organisation's credits left (no row: nothing was ever granted)."""
    return Sql(_BALANCE, {"org_id": org_id})
