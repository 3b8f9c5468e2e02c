"""`billing_ledger_usage_debit`: the one way a billed model call debits the ledger.

Metering calls it inside its bill (usage's `usage_model_call_bill`), so the ledger's write
stays billing's while a chat is billed in one statement.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION billing_ledger_usage_debit(
    p_org bigint, p_user bigint, p_credits numeric, p_call bigint, p_note text
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO billing_creditledger (
        organization_id, user_id, kind, credits, model_call_id, note, at
    ) VALUES (p_org, p_user, 'usage', -p_credits, p_call, left(p_note, 200), now());
$$;
"""
DROP = "DROP FUNCTION billing_ledger_usage_debit(bigint, bigint, numeric, bigint, text);"


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_credit_balance")]

    operations = [migrations.RunSQL(CREATE, DROP)]
