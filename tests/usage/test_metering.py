"""Metering: one usage/cost/ledger set per billed request, the reconciler, summaries, abuse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog, User
from billing.models import CreditLedger, LedgerKind
from billing.pricing import price_call
from billing.selectors import credit_balance, entitlement_get
from routing.models import AIModel
from routing.selectors import BENCHMARK_MODEL_SLUG, benchmark_prices
from tests.accounts.factories import UserFactory
from tests.concurrency import run_together
from tests.conftest import Tenant, make_tenant
from tests.routing.factories import AIModelFactory
from tests.usage.factories import AbuseFlagFactory
from usage.models import AbuseFlag, AbuseKind, CallStatus, CostRecord, ModelCall, UsageRecord
from usage.selectors import abuse_flag_open_for, model_call_list, usage_summary
from usage.services import (
    BilledUsage,
    abuse_flag_clear,
    abuse_record_blocked_prompt,
    abuse_record_high_cost_call,
    model_call_fail,
    model_call_finish,
    model_call_mark_streaming,
    model_call_reconcile_stuck,
    model_call_start,
    model_call_update_progress,
)

pytestmark = pytest.mark.django_db

PRO_MULTIPLIER = Decimal("1200")
# 1,000 in / 500 out at 0.15 / 0.60 USD per million (the factory model's prices):
# raw = 0.00015 + 0.0003 = 0.00045 USD; display = 0.00045 x 1200 = 0.54 credits;
# benchmark at gpt-4o's 2.50 / 10.00 = 0.0025 + 0.005 = 0.0075 USD.
RAW = Decimal("0.00045")
DISPLAY = Decimal("0.54")
BENCHMARK = Decimal("0.0075")


def start(
    tenant: Tenant,
    request_id: str,
    *,
    attempt: int = 1,
    model: AIModel | None = None,
    deadline_in: timedelta = timedelta(minutes=2),
    streaming: bool = True,
    multiplier: Decimal = PRO_MULTIPLIER,
) -> ModelCall:
    model = model or AIModelFactory()
    call = model_call_start(
        org=tenant.org,
        user=tenant.member,
        api_key=tenant.key,
        conversation_id=None,
        request_id=request_id,
        attempt=attempt,
        fallback_of_id=None,
        provider_id=model.provider_id,
        model_id=model.pk,
        assistant_family="generalist",
        task_type="chat",
        route_reasons=["cheapest model meeting the bar"],
        deadline_at=timezone.now() + deadline_in,
        display_multiplier=multiplier,
    )
    if streaming:
        assert model_call_mark_streaming(call_id=call.pk)
    return call


def finish(tenant: Tenant, call: ModelCall, **overrides: Any) -> BilledUsage | None:
    arguments: dict[str, Any] = {
        "org": tenant.org,
        "call_id": call.pk,
        "request_id": call.request_id,
        "status": CallStatus.SUCCEEDED,
        "input_tokens": 1000,
        "output_tokens": 500,
        "latency_ms": 900,
        "ttft_ms": 200,
        "incomplete": False,
    } | overrides
    return model_call_finish(**arguments)


def billed_sets(tenant: Tenant) -> tuple[int, int, int]:
    org = tenant.org
    return (
        UsageRecord.objects.for_org(org).count(),
        CostRecord.objects.for_org(org).count(),
        CreditLedger.objects.for_org(org).filter(kind=LedgerKind.USAGE).count(),
    )


# Pricing ---------------------------------------------------------------------------------


def test_price_call_is_exact_in_decimal_for_a_hand_computed_case() -> None:
    cost = price_call(
        input_tokens=1000,
        output_tokens=500,
        input_cost_per_mtok=Decimal("0.15"),
        output_cost_per_mtok=Decimal("0.60"),
        multiplier=PRO_MULTIPLIER,
        benchmark_input_per_mtok=Decimal("2.50"),
        benchmark_output_per_mtok=Decimal("10.00"),
    )

    assert (cost.raw_cost, cost.display_cost, cost.benchmark_cost) == (RAW, DISPLAY, BENCHMARK)
    assert cost.multiplier == PRO_MULTIPLIER
    assert all(isinstance(v, Decimal) for v in (cost.raw_cost, cost.display_cost))


def test_price_call_keeps_the_ten_places_the_columns_store() -> None:
    cost = price_call(
        input_tokens=7,
        output_tokens=3,
        input_cost_per_mtok=Decimal("0.075"),
        output_cost_per_mtok=Decimal("0.30"),
        multiplier=Decimal("1.5"),
        benchmark_input_per_mtok=Decimal("2.50"),
        benchmark_output_per_mtok=Decimal("10.00"),
    )

    # 7 x 0.075 + 3 x 0.30 = 1.425 per million tokens.
    assert cost.raw_cost == Decimal("0.0000014250")
    assert cost.display_cost == Decimal("0.0000021375")
    assert cost.raw_cost.as_tuple().exponent == -10


def test_price_call_refuses_floats_and_negative_tokens() -> None:
    prices = {
        "input_cost_per_mtok": Decimal("0.15"),
        "output_cost_per_mtok": Decimal("0.60"),
        "benchmark_input_per_mtok": Decimal("2.50"),
        "benchmark_output_per_mtok": Decimal("10.00"),
    }
    with pytest.raises(TypeError):
        price_call(input_tokens=1, output_tokens=1, multiplier=1.5, **prices)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        price_call(input_tokens=-1, output_tokens=1, multiplier=Decimal(1), **prices)


def test_benchmark_prices_come_from_the_gpt_4o_row() -> None:
    AIModel.objects.filter(slug=BENCHMARK_MODEL_SLUG).update(
        input_cost_per_mtok=Decimal("3"), output_cost_per_mtok=Decimal("12")
    )

    assert benchmark_prices() == (Decimal("3"), Decimal("12"))


def test_benchmark_prices_fall_back_to_gpt_4o_list_prices() -> None:
    AIModel.objects.filter(slug=BENCHMARK_MODEL_SLUG).update(slug="openai/gpt-4o-renamed")

    assert benchmark_prices() == (Decimal("2.50"), Decimal("10.00"))


# Finishing a call ------------------------------------------------------------------------


def test_finish_writes_one_billed_set_and_debits_the_display_cost(tenant: Tenant) -> None:
    before = credit_balance(org=tenant.org)
    call = start(tenant, "req-one")

    billed = finish(tenant, call)

    assert billed is not None and billed.created
    assert (billed.raw_cost, billed.display_cost) == (RAW, DISPLAY)
    assert (billed.input_tokens, billed.output_tokens) == (1000, 500)
    assert billed_sets(tenant) == (1, 1, 1)
    usage = UsageRecord.objects.get(pk=billed.usage_record_id)
    assert (usage.quantity, usage.display_units, usage.user) == (1500, DISPLAY, tenant.member)
    cost = CostRecord.objects.get(model_call=call)
    assert (cost.raw_cost, cost.display_cost, cost.multiplier) == (RAW, DISPLAY, PRO_MULTIPLIER)
    assert (cost.benchmark_cost, cost.currency) == (BENCHMARK, "USD")
    ledger = CreditLedger.objects.get(kind=LedgerKind.USAGE, organization=tenant.org)
    assert (ledger.credits, ledger.model_call, ledger.user) == (-DISPLAY, call, tenant.member)
    assert credit_balance(org=tenant.org) == before - DISPLAY
    call.refresh_from_db()
    assert call.status == CallStatus.SUCCEEDED and call.finished_at is not None
    assert (call.input_tokens, call.output_tokens, call.latency_ms, call.ttft_ms) == (
        1000,
        500,
        900,
        200,
    )


def test_finish_bills_at_the_multiplier_the_call_was_priced_at(tenant: Tenant) -> None:
    multiplier = entitlement_get(org=tenant.org, user=tenant.member).display_multiplier

    billed = finish(tenant, start(tenant, "req-plan", multiplier=multiplier))

    assert multiplier == PRO_MULTIPLIER
    assert billed is not None and billed.display_cost == DISPLAY


def test_second_finish_with_the_same_request_id_writes_nothing(tenant: Tenant) -> None:
    call = start(tenant, "req-twice")
    first = finish(tenant, call)

    second = finish(tenant, call, output_tokens=9999, status=CallStatus.CANCELLED)

    assert first is not None and second is not None
    assert not second.created
    assert second.usage_record_id == first.usage_record_id
    assert (second.display_cost, second.output_tokens) == (DISPLAY, 500)
    assert billed_sets(tenant) == (1, 1, 1)
    call.refresh_from_db()
    assert (call.status, call.output_tokens) == (CallStatus.SUCCEEDED, 500)


def test_two_attempts_of_one_request_bill_once(tenant: Tenant) -> None:
    first_attempt = start(tenant, "req-attempts")
    second_attempt = start(tenant, "req-attempts", attempt=2)

    first = finish(tenant, first_attempt)
    second = finish(tenant, second_attempt, output_tokens=40)

    assert first is not None and first.created
    assert second is not None and not second.created
    assert second.usage_record_id == first.usage_record_id
    assert billed_sets(tenant) == (1, 1, 1)
    second_attempt.refresh_from_db()  # its own outcome is still recorded, unbilled
    assert (second_attempt.status, second_attempt.output_tokens) == (CallStatus.SUCCEEDED, 40)


def test_finish_is_scoped_to_the_callers_organisation(tenant: Tenant, other_tenant: Tenant) -> None:
    call = start(tenant, "req-scoped")

    with pytest.raises(ModelCall.DoesNotExist):
        finish(other_tenant, call)

    assert billed_sets(tenant) == (0, 0, 0)


def test_failed_attempt_without_tokens_bills_nothing(tenant: Tenant) -> None:
    failed = start(tenant, "req-fail", streaming=False)
    cancelled = start(tenant, "req-fail-finish")

    model_call_fail(call_id=failed.pk, error="upstream 503", latency_ms=120)
    result = finish(tenant, cancelled, status=CallStatus.FAILED, output_tokens=0)

    assert result is None
    assert billed_sets(tenant) == (0, 0, 0)
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.latency_ms) == ("failed", "upstream 503", 120)
    assert failed.finished_at is not None


def test_fail_redacts_keys_and_quoted_text_and_truncates(tenant: Tenant) -> None:
    call = start(tenant, "req-redact")
    secret = tenant.secret
    error = (
        f"401 Authorization: Bearer {secret} api_key={secret} "
        f'body: "please summarise my private medical notes for me today" ' + "x " * 400
    )

    model_call_fail(call_id=call.pk, error=error, status=CallStatus.CANCELLED)

    call.refresh_from_db()
    assert call.status == CallStatus.CANCELLED
    assert secret not in call.error and "medical" not in call.error
    assert "[redacted]" in call.error and len(call.error) <= 300


def test_fail_never_overwrites_a_finished_call(tenant: Tenant) -> None:
    call = start(tenant, "req-late-fail")
    finish(tenant, call)

    model_call_fail(call_id=call.pk, error="late timeout")

    call.refresh_from_db()
    assert (call.status, call.error) == (CallStatus.SUCCEEDED, "")


def test_fail_bills_tokens_progress_shows_were_delivered(tenant: Tenant) -> None:
    call = start(tenant, "req-fail-after-tokens")
    model_call_update_progress(call_id=call.pk, output_tokens=50, input_tokens=1000)

    model_call_fail(call_id=call.pk, error="connection reset")

    call.refresh_from_db()
    usage = UsageRecord.objects.get(model_call=call)
    assert (call.status, call.output_tokens, usage.quantity) == (CallStatus.FAILED, 50, 1050)


def test_cancelled_with_partial_tokens_bills_only_those(tenant: Tenant) -> None:
    call = start(tenant, "req-cancel")

    billed = finish(tenant, call, status=CallStatus.CANCELLED, output_tokens=100, incomplete=True)

    # 1000 x 0.15 + 100 x 0.60 = 210 per million = 0.00021 USD = 0.252 credits.
    assert billed is not None and billed.created
    assert (billed.raw_cost, billed.display_cost) == (Decimal("0.00021"), Decimal("0.252"))
    assert UsageRecord.objects.get(model_call=call).quantity == 1100
    ledger = CreditLedger.objects.get(model_call=call)
    assert ledger.credits == Decimal("-0.252") and "(incomplete)" in ledger.note
    call.refresh_from_db()
    assert call.status == CallStatus.CANCELLED


def test_failed_after_first_token_keeps_its_status_and_is_billed(tenant: Tenant) -> None:
    call = start(tenant, "req-cut")

    billed = finish(tenant, call, status=CallStatus.FAILED, output_tokens=10, incomplete=True)

    assert billed is not None and billed.created
    call.refresh_from_db()
    assert call.status == CallStatus.FAILED


def test_start_refuses_a_float_multiplier_and_finish_an_open_status(tenant: Tenant) -> None:
    with pytest.raises(TypeError):
        start(tenant, "req-float", multiplier=1200.0)  # type: ignore[arg-type]
    call = start(tenant, "req-bad")

    with pytest.raises(ValueError, match="succeeded, failed or cancelled"):
        finish(tenant, call, status=CallStatus.STREAMING)
    assert billed_sets(tenant) == (0, 0, 0)


def test_mark_streaming_changes_only_a_pending_call(tenant: Tenant) -> None:
    call = start(tenant, "req-stream", streaming=False)

    assert model_call_mark_streaming(call_id=call.pk)
    assert not model_call_mark_streaming(call_id=call.pk)
    call.refresh_from_db()
    assert call.status == CallStatus.STREAMING


def test_update_progress_only_grows_and_only_on_open_calls(tenant: Tenant) -> None:
    call = start(tenant, "req-progress")

    model_call_update_progress(call_id=call.pk, output_tokens=80)
    model_call_update_progress(call_id=call.pk, output_tokens=40)  # reordered, stale
    call.refresh_from_db()
    assert call.output_tokens == 80

    finish(tenant, call)
    model_call_update_progress(call_id=call.pk, output_tokens=9000)
    call.refresh_from_db()
    assert call.output_tokens == 500


# The reconciler --------------------------------------------------------------------------


def test_reconciler_finalises_a_stuck_stream_once_and_bills_its_progress(
    tenant: Tenant,
) -> None:
    stuck = start(tenant, "req-stuck", deadline_in=timedelta(seconds=-60))
    model_call_update_progress(call_id=stuck.pk, output_tokens=300, input_tokens=1000)
    fresh = start(tenant, "req-fresh")

    first_run = model_call_reconcile_stuck()
    second_run = model_call_reconcile_stuck()

    assert (first_run, second_run) == (1, 0)
    stuck.refresh_from_db()
    assert stuck.status == CallStatus.CANCELLED and stuck.finished_at is not None
    assert "deadline" in stuck.error
    usage = UsageRecord.objects.get(model_call=stuck)
    # 1000 x 0.15 + 300 x 0.60 = 330 per million = 0.00033 USD x 1200 (pro) = 0.396 credits.
    assert (usage.quantity, usage.display_units) == (1300, Decimal("0.396"))
    assert "(incomplete)" in CreditLedger.objects.get(model_call=stuck).note
    assert billed_sets(tenant) == (1, 1, 1)
    fresh.refresh_from_db()
    assert fresh.status == CallStatus.STREAMING and fresh.finished_at is None


def test_reconciler_waits_for_the_grace_period(tenant: Tenant) -> None:
    call = start(tenant, "req-grace", deadline_in=timedelta(seconds=-10))

    assert model_call_reconcile_stuck(grace_seconds=30) == 0
    assert model_call_reconcile_stuck(now=timezone.now() + timedelta(seconds=30)) == 1
    call.refresh_from_db()
    assert call.status == CallStatus.CANCELLED


def test_reconciler_fails_pending_calls_past_their_deadline_without_billing(
    tenant: Tenant,
) -> None:
    late = start(tenant, "req-pending", deadline_in=timedelta(seconds=-60), streaming=False)
    waiting = start(tenant, "req-pending-ok", streaming=False)

    assert model_call_reconcile_stuck() == 1

    late.refresh_from_db()
    waiting.refresh_from_db()
    assert (late.status, waiting.status) == (CallStatus.FAILED, CallStatus.PENDING)
    assert billed_sets(tenant) == (0, 0, 0)


def test_stuck_stream_without_tokens_is_cancelled_unbilled(tenant: Tenant) -> None:
    call = start(tenant, "req-stuck-empty", deadline_in=timedelta(seconds=-60))

    assert model_call_reconcile_stuck() == 1

    call.refresh_from_db()
    assert call.status == CallStatus.CANCELLED
    assert billed_sets(tenant) == (0, 0, 0)


def test_late_finish_after_the_reconciler_does_not_bill_twice(tenant: Tenant) -> None:
    call = start(tenant, "req-late", deadline_in=timedelta(seconds=-60))
    model_call_update_progress(call_id=call.pk, output_tokens=200)
    model_call_reconcile_stuck()

    late = finish(tenant, call)

    assert late is not None and not late.created and late.output_tokens == 200
    assert billed_sets(tenant) == (1, 1, 1)
    call.refresh_from_db()
    assert (call.status, call.output_tokens) == (CallStatus.CANCELLED, 200)


def test_reconciler_bills_at_the_calls_own_multiplier(free_tenant: Tenant) -> None:
    call = start(
        free_tenant, "req-free", deadline_in=timedelta(seconds=-60), multiplier=Decimal(1500)
    )
    model_call_update_progress(call_id=call.pk, output_tokens=1000)

    model_call_reconcile_stuck()

    # 1000 x 0.60 per million = 0.0006 USD x 1500 (free plan) = 0.9 credits.
    assert UsageRecord.objects.get(model_call=call).display_units == Decimal("0.9")


# The ledger ------------------------------------------------------------------------------


def test_ledger_balance_is_grants_minus_usage_after_a_mix_of_calls(tenant: Tenant) -> None:
    model = AIModelFactory(input_cost_per_mtok=Decimal("3"), output_cost_per_mtok=Decimal("15"))
    finish(tenant, start(tenant, "mix-1"))
    finish(tenant, start(tenant, "mix-2", model=model), output_tokens=777, input_tokens=33)
    finish(tenant, start(tenant, "mix-2", attempt=2))  # already billed
    finish(tenant, start(tenant, "mix-3"), status=CallStatus.FAILED, output_tokens=0)
    finish(tenant, start(tenant, "mix-4"), status=CallStatus.CANCELLED, output_tokens=12)
    model_call_fail(call_id=start(tenant, "mix-5").pk, error="boom")
    stuck = start(tenant, "mix-6", deadline_in=timedelta(seconds=-60))
    model_call_update_progress(call_id=stuck.pk, output_tokens=64)
    model_call_reconcile_stuck()

    ledger = CreditLedger.objects.for_org(tenant.org)
    grants = sum(ledger.filter(kind=LedgerKind.GRANT).values_list("credits", flat=True))
    used = sum(UsageRecord.objects.for_org(tenant.org).values_list("display_units", flat=True))
    costs = sum(CostRecord.objects.for_org(tenant.org).values_list("display_cost", flat=True))
    assert UsageRecord.objects.for_org(tenant.org).count() == 4
    assert used == costs
    assert credit_balance(org=tenant.org) == grants - used


# Selectors -------------------------------------------------------------------------------


def test_usage_summary_never_includes_another_tenants_records(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    finish(tenant, start(tenant, "shared-id"))
    finish(other_tenant, start(other_tenant, "shared-id"), output_tokens=5000)
    now = timezone.now()

    mine = usage_summary(org=tenant.org, start=now - timedelta(days=1), end=now + timedelta(days=1))
    theirs = usage_summary(
        org=other_tenant.org, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )

    assert (mine.requests, mine.tokens, mine.credits_used) == (1, 1500, DISPLAY)
    assert theirs.requests == 1 and theirs.tokens == 6000
    assert mine.credits_left == credit_balance(org=tenant.org)


def test_usage_summary_by_day_family_and_user(tenant: Tenant) -> None:
    first = finish(tenant, start(tenant, "sum-1"))
    finish(tenant, start(tenant, "sum-2"))
    owner_call = model_call_start(
        org=tenant.org,
        user=tenant.owner,
        api_key=None,
        conversation_id=None,
        request_id="sum-3",
        attempt=1,
        fallback_of_id=None,
        provider_id=(model := AIModelFactory()).provider_id,
        model_id=model.pk,
        assistant_family="coder",
        task_type="coding",
        route_reasons=[],
        deadline_at=None,
        display_multiplier=PRO_MULTIPLIER,
    )
    finish(tenant, owner_call)
    assert first is not None
    yesterday = timezone.now() - timedelta(days=1)
    UsageRecord.objects.filter(pk=first.usage_record_id).update(at=yesterday)
    now = timezone.now()

    summary = usage_summary(org=tenant.org, start=now - timedelta(days=3), end=now)
    members = usage_summary(
        org=tenant.org, user=tenant.member, start=now - timedelta(days=3), end=now
    )

    assert summary.credits_used == 3 * DISPLAY
    assert [(d.day, d.requests) for d in summary.by_day] == [
        (yesterday.date(), 1),
        (now.date(), 2),
    ]
    assert [(f.family, f.requests, f.credits) for f in summary.by_family] == [
        ("generalist", 2, 2 * DISPLAY),
        ("coder", 1, DISPLAY),
    ]
    assert (members.requests, members.credits_used) == (2, 2 * DISPLAY)


def test_model_call_list_is_newest_first_and_filters_by_org(
    tenant: Tenant, other_tenant: Tenant, django_assert_num_queries: Callable[..., Any]
) -> None:
    older = start(tenant, "list-1")
    newer = start(tenant, "list-2")
    start(other_tenant, "list-3")

    with django_assert_num_queries(1):
        calls = list(model_call_list(org=tenant.org))
        names = [(c.model.slug, c.provider.slug, c.organization.slug, c.user.email) for c in calls]

    assert [c.pk for c in calls] == [newer.pk, older.pk]
    assert len(names) == 2
    assert model_call_list(status=CallStatus.STREAMING).count() >= 3
    assert list(model_call_list(org=tenant.org, request_id="list-1")) == [older]


# Abuse signals ---------------------------------------------------------------------------


def test_blocked_prompts_raise_one_flag_after_the_threshold(tenant: Tenant) -> None:
    now = timezone.now()

    raised = [
        abuse_record_blocked_prompt(
            org=tenant.org, user=tenant.member, now=now + timedelta(seconds=i)
        )
        for i in range(7)
    ]

    assert raised[:4] == [None] * 4
    assert isinstance(raised[4], AbuseFlag) and raised[4].kind == AbuseKind.BLOCKED_PROMPTS
    assert raised[5:] == [None, None]
    assert AbuseFlag.objects.for_org(tenant.org).count() == 1
    assert abuse_flag_open_for(org=tenant.org, user=tenant.member)
    assert not abuse_flag_open_for(org=tenant.org, user=tenant.owner)


def test_blocked_prompts_outside_the_window_do_not_count(tenant: Tenant) -> None:
    start_at = timezone.now()

    for minute in range(0, 60, 11):  # one every 11 minutes: never 5 within 10
        flag = abuse_record_blocked_prompt(
            org=tenant.org, user=tenant.member, now=start_at + timedelta(minutes=minute)
        )
        assert flag is None


def test_high_cost_calls_count_only_above_the_credit_threshold(
    tenant: Tenant, settings: Any
) -> None:
    settings.ABUSE_HIGH_COST_THRESHOLD = 3
    now = timezone.now()

    for _ in range(5):
        assert (
            abuse_record_high_cost_call(
                org=tenant.org, user_id=tenant.member.pk, display_cost=Decimal("199.99"), now=now
            )
            is None
        )
    flags = [
        abuse_record_high_cost_call(
            org=tenant.org, user_id=tenant.member.pk, display_cost=Decimal("200"), now=now
        )
        for _ in range(4)
    ]

    assert flags[:2] == [None, None] and flags[3] is None
    assert flags[2] is not None and flags[2].kind == AbuseKind.HIGH_COST


def test_finish_counts_high_cost_calls_once_committed(
    tenant: Tenant, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.ABUSE_HIGH_COST_CREDITS = Decimal("0.5")
    settings.ABUSE_HIGH_COST_THRESHOLD = 2

    with django_capture_on_commit_callbacks(execute=True):
        finish(tenant, start(tenant, "costly-1"))
        finish(tenant, start(tenant, "costly-1", attempt=2))  # not billed: not counted
    assert not abuse_flag_open_for(org=tenant.org, user=tenant.member)
    with django_capture_on_commit_callbacks(execute=True):
        finish(tenant, start(tenant, "costly-2"))

    assert abuse_flag_open_for(org=tenant.org, user=tenant.member)


def test_staff_clear_a_flag_once_with_an_audit_row(tenant: Tenant) -> None:
    flag = AbuseFlagFactory(organization=tenant.org, user=tenant.member)
    staff = UserFactory(is_staff=True)

    cleared = abuse_flag_clear(flag=flag, actor=staff)
    again = abuse_flag_clear(flag=flag, actor=staff)

    assert cleared.cleared_at is not None and cleared.cleared_by == staff
    assert again.cleared_at == cleared.cleared_at
    log = AuditLog.objects.get(action="abuse_flag.clear")
    assert (log.actor, log.organization) == (staff, tenant.org)
    assert not abuse_flag_open_for(org=tenant.org, user=tenant.member)


def test_clearing_restarts_the_window_and_allows_a_new_flag(
    tenant: Tenant, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    now = timezone.now()
    for i in range(5):
        flag = abuse_record_blocked_prompt(
            org=tenant.org, user=tenant.member, now=now + timedelta(seconds=i)
        )
    assert flag is not None

    with django_capture_on_commit_callbacks(execute=True):
        abuse_flag_clear(flag=flag, actor=UserFactory(is_staff=True))

    later = [
        abuse_record_blocked_prompt(
            org=tenant.org, user=tenant.member, now=now + timedelta(seconds=10 + i)
        )
        for i in range(5)
    ]
    assert later[:4] == [None] * 4  # counting started again from zero
    assert later[4] is not None and later[4].pk != flag.pk


def test_non_staff_cannot_clear_a_flag(tenant: Tenant) -> None:
    flag = AbuseFlagFactory(organization=tenant.org, user=tenant.member)

    with pytest.raises(PermissionDenied):
        abuse_flag_clear(flag=flag, actor=tenant.owner)

    flag.refresh_from_db()
    assert flag.cleared_at is None
    assert not AuditLog.objects.filter(action="abuse_flag.clear").exists()


def test_admin_action_clears_selected_flags(
    admin_client: Client, admin_user: User, tenant: Tenant
) -> None:
    flag = AbuseFlagFactory(organization=tenant.org, user=tenant.member)

    response = admin_client.post(
        reverse("admin:usage_abuseflag_changelist"),
        {"action": "clear_flags", "_selected_action": [flag.pk]},
    )

    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.cleared_by == admin_user
    assert AuditLog.objects.filter(action="abuse_flag.clear", actor=admin_user).count() == 1


# Concurrency: real commits, one connection per thread ------------------------------------


@pytest.fixture
def committed_tenant(transactional_db: None) -> Tenant:
    # A transactional test's flush also empties the catalog the session seeded: reseed it.
    call_command("seed_catalog", verbosity=0)
    return make_tenant("Acme")


@pytest.mark.django_db(transaction=True)
def test_concurrent_finishes_of_one_call_bill_once(committed_tenant: Tenant) -> None:
    call = start(committed_tenant, "req-race")

    results = run_together(
        lambda: finish(committed_tenant, call), lambda: finish(committed_tenant, call)
    )

    assert sorted(r.created for r in results) == [False, True]
    assert len({r.usage_record_id for r in results}) == 1
    assert billed_sets(committed_tenant) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_of_one_request_bill_once(committed_tenant: Tenant) -> None:
    attempts = [start(committed_tenant, "req-race-2", attempt=n) for n in (1, 2, 3)]

    results = run_together(*(lambda c=c: finish(committed_tenant, c) for c in attempts))

    assert sorted(r.created for r in results) == [False, False, True]
    assert len({r.usage_record_id for r in results}) == 1
    assert billed_sets(committed_tenant) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reconcilers_and_finish_bill_a_stuck_call_once(
    committed_tenant: Tenant,
) -> None:
    call = start(committed_tenant, "req-race-3", deadline_in=timedelta(seconds=-60))
    model_call_update_progress(call_id=call.pk, output_tokens=100)

    results = run_together(
        model_call_reconcile_stuck,
        model_call_reconcile_stuck,
        lambda: finish(committed_tenant, call),
    )

    assert results[0] + results[1] <= 1
    assert billed_sets(committed_tenant) == (1, 1, 1)
    balance = credit_balance(org=committed_tenant.org)
    usage = UsageRecord.objects.get(request_id="req-race-3")
    assert balance == Decimal("30000") - usage.display_units
