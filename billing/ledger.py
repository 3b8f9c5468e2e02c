"""The credit ledger's hot statements: the balance a chat reads and the debit it writes.

The ledger is append-only and its balance is kept by a trigger (see CreditBalance), so a
debit is one INSERT and the balance one indexed row.
"""

from __future__ import annotations

from decimal import Decimal

from accounts.sql import Sql

_BALANCE = "SELECT credits FROM billing_creditbalance WHERE organization_id = %(org_id)s"
# One debit per model call: the column is unique, so a repeated debit cannot charge twice.
_USAGE_DEBIT = """
INSERT INTO billing_creditledger (organization_id, user_id, kind, credits, model_call_id, note, at)
VALUES (%(org_id)s, %(user_id)s, 'usage', %(credits)s, %(model_call_id)s, %(note)s, now())
"""


def credit_balance_sql(*, org_id: int) -> Sql:
    """The organisation's credits left (no row: nothing was ever granted)."""
    return Sql(_BALANCE, {"org_id": org_id})


def ledger_usage_debit_sql(
    *, org_id: int, user_id: int | None, credits: Decimal, model_call_id: int, note: str
) -> Sql:
    """Debit `credits` (a positive amount) for one billed model call."""
    if credits < 0:
        raise ValueError("a usage debit takes the positive number of credits used")
    return Sql(
        _USAGE_DEBIT,
        {
            "org_id": org_id,
            "user_id": user_id,
            "credits": -credits,
            "model_call_id": model_call_id,
            "note": note[:200],
        },
    )
