"""`usage_model_call_bill` passes the call's API key to billing's debit, which counts the
month's spend per organisation, member and key for budget caps (billing/migrations/0007)."""

from django.db import migrations

BILL = """
CREATE OR REPLACE FUNCTION usage_model_call_bill(
    p_org bigint, p_call bigint, p_request text, p_status text,
    p_input integer, p_output integer, p_latency integer, p_ttft integer, p_now timestamptz,
    p_billable boolean, p_raw numeric, p_display numeric, p_multiplier numeric,
    p_benchmark numeric, p_currency text, p_note text
) RETURNS TABLE (usage_id bigint, user_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    v_user bigint;
    v_api_key bigint;
    v_finished timestamptz;
    v_billed boolean;
    v_usage bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);  -- until this transaction commits
    SELECT c.user_id, c.api_key_id, c.finished_at INTO v_user, v_api_key, v_finished
    FROM usage_modelcall c
    WHERE c.id = p_call AND c.organization_id = p_org AND c.request_id = p_request
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model call % for request % in organisation %', p_call, p_request, p_org
            USING ERRCODE = 'no_data_found';
    END IF;
    v_billed := EXISTS (
        SELECT 1 FROM usage_usagerecord u
        WHERE u.organization_id = p_org AND u.request_id = p_request
    );
    IF v_billed AND v_finished IS NOT NULL THEN
        RETURN;
    END IF;
    UPDATE usage_modelcall
    SET status = p_status, input_tokens = p_input, output_tokens = p_output,
        latency_ms = p_latency, ttft_ms = p_ttft, finished_at = p_now
    WHERE id = p_call;
    IF v_billed OR NOT p_billable THEN
        RETURN;
    END IF;
    INSERT INTO usage_usagerecord (
        organization_id, user_id, model_call_id, request_id, type, quantity, display_units, at
    ) VALUES (p_org, v_user, p_call, p_request, 'tokens', p_input + p_output, p_display, p_now)
    ON CONFLICT (organization_id, request_id) DO NOTHING
    RETURNING id INTO v_usage;
    IF v_usage IS NULL THEN
        RETURN;  -- another attempt of this request billed it first
    END IF;
    INSERT INTO usage_costrecord (
        organization_id, model_call_id, raw_cost, display_cost, multiplier, benchmark_cost,
        currency, at
    ) VALUES (p_org, p_call, p_raw, p_display, p_multiplier, p_benchmark, p_currency, p_now);
    PERFORM billing_ledger_usage_debit(p_org, v_user, v_api_key, p_display, p_call, p_note);
    usage_id := v_usage;
    user_id := v_user;
    RETURN NEXT;
END;
$$;
"""

BILL_BEFORE = """
CREATE OR REPLACE FUNCTION usage_model_call_bill(
    p_org bigint, p_call bigint, p_request text, p_status text,
    p_input integer, p_output integer, p_latency integer, p_ttft integer, p_now timestamptz,
    p_billable boolean, p_raw numeric, p_display numeric, p_multiplier numeric,
    p_benchmark numeric, p_currency text, p_note text
) RETURNS TABLE (usage_id bigint, user_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    v_user bigint;
    v_finished timestamptz;
    v_billed boolean;
    v_usage bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);  -- until this transaction commits
    SELECT c.user_id, c.finished_at INTO v_user, v_finished
    FROM usage_modelcall c
    WHERE c.id = p_call AND c.organization_id = p_org AND c.request_id = p_request
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model call % for request % in organisation %', p_call, p_request, p_org
            USING ERRCODE = 'no_data_found';
    END IF;
    v_billed := EXISTS (
        SELECT 1 FROM usage_usagerecord u
        WHERE u.organization_id = p_org AND u.request_id = p_request
    );
    IF v_billed AND v_finished IS NOT NULL THEN
        RETURN;
    END IF;
    UPDATE usage_modelcall
    SET status = p_status, input_tokens = p_input, output_tokens = p_output,
        latency_ms = p_latency, ttft_ms = p_ttft, finished_at = p_now
    WHERE id = p_call;
    IF v_billed OR NOT p_billable THEN
        RETURN;
    END IF;
    INSERT INTO usage_usagerecord (
        organization_id, user_id, model_call_id, request_id, type, quantity, display_units, at
    ) VALUES (p_org, v_user, p_call, p_request, 'tokens', p_input + p_output, p_display, p_now)
    ON CONFLICT (organization_id, request_id) DO NOTHING
    RETURNING id INTO v_usage;
    IF v_usage IS NULL THEN
        RETURN;  -- another attempt of this request billed it first
    END IF;
    INSERT INTO usage_costrecord (
        organization_id, model_call_id, raw_cost, display_cost, multiplier, benchmark_cost,
        currency, at
    ) VALUES (p_org, p_call, p_raw, p_display, p_multiplier, p_benchmark, p_currency, p_now);
    PERFORM billing_ledger_usage_debit(p_org, v_user, p_display, p_call, p_note);
    usage_id := v_usage;
    user_id := v_user;
    RETURN NEXT;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_budgets_periods_stripe"),
        ("usage", "0005_model_call_bill"),
    ]

    operations = [migrations.RunSQL(BILL, BILL_BEFORE)]
