"""Metering: one ModelCall per provider attempt, one usage/cost/ledger set per billed request.

Every write is a hand-written statement built here (the chat path sends them on its async
connection, several to a round trip; the functions below run them on Django's connection for
tasks and tests), and every transaction is short: nothing here waits on a provider. The unique
(organization, request_id) of UsageRecord is the idempotency key: whoever finishes a request
first (the stream's `finally`, a retry, the reconciler) bills it, everyone after gets the same
bill back with `created=False`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.models import ApiKey, Organization, User
from accounts.sql import Sql, sql_run
from billing.pricing import STORAGE_QUANTUM, CallCost, price_call
from routing.selectors import benchmark_prices
from usage.models import END_USER_MAX, CallStatus, ModelCall, UsageRecord
from usage.services.abuse import abuse_record_high_cost_call

logger = logging.getLogger(__name__)

OPEN_STATUSES = (CallStatus.PENDING, CallStatus.STREAMING)
FINAL_STATUSES = (CallStatus.SUCCEEDED, CallStatus.FAILED, CallStatus.CANCELLED)
RECONCILE_BATCH = 500
STUCK_ERROR = "Stream did not finish by its deadline; billed the tokens recorded so far."
PENDING_ERROR = "No response from the provider by the deadline."

_ERROR_MAX = ModelCall._meta.get_field("error").max_length
# Provider errors can carry keys or echo the request: mask anything that looks like either.
_SECRETS = re.compile(
    r"(?i)bearer\s+\S+"
    r"|\b(?:api[_-]?key|token|secret|password|authorization)\b\s*[=:]\s*\S+"
    r"|\b(?:sk|sb|pk|rk)[-_][\w-]{8,}"
    r"|[\w+/=-]{32,}"
)
_LONG_QUOTES = re.compile(r"\"[^\"]{40,}\"|'[^']{40,}'")


@dataclass(frozen=True)
class BilledUsage:
    usage_record_id: int
    raw_cost: Decimal
    display_cost: Decimal
    input_tokens: int
    output_tokens: int
    created: bool  # False: the request was already billed, nothing new was written


@dataclass(frozen=True)
class CallOutcome:
    """How one attempt ended, as its ModelCall records it."""

    status: str
    input_tokens: int
    output_tokens: int
    latency_ms: int | None
    ttft_ms: int | None
    incomplete: bool
    finished_at: datetime

    def __post_init__(self) -> None:
        if self.status not in (*FINAL_STATUSES, CallStatus.CACHED):
            raise ValueError(
                "A finished call is succeeded, failed or cancelled (or cached),"
                f" not {self.status!r}"
            )
        if self.input_tokens < 0 or self.output_tokens < 0:
            raise ValueError("Token counts are not negative")

    @property
    def billable(self) -> bool:
        """Billed when the customer saw tokens, or the provider finished (even with none); a
        cached answer is always billed, at zero credits if its plan serves them free, so
        FinOps counts every hit."""
        return self.output_tokens > 0 or self.status in (CallStatus.SUCCEEDED, CallStatus.CACHED)


@dataclass(frozen=True)
class CallPrices:
    """What a call's tokens cost: its model's prices and the multiplier it was priced at."""

    input_cost_per_mtok: Decimal
    output_cost_per_mtok: Decimal
    multiplier: Decimal
    currency: str
    benchmark: tuple[Decimal, Decimal]

    @classmethod
    def of_call(cls, call: ModelCall) -> CallPrices:
        """A stored call's prices: its model's now, at the multiplier it was priced at."""
        return cls(
            input_cost_per_mtok=call.model.input_cost_per_mtok,
            output_cost_per_mtok=call.model.output_cost_per_mtok,
            multiplier=call.display_multiplier,
            currency=call.model.currency,
            benchmark=benchmark_prices(),
        )

    def cost(self, outcome: CallOutcome) -> CallCost:
        return price_call(
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            input_cost_per_mtok=self.input_cost_per_mtok,
            output_cost_per_mtok=self.output_cost_per_mtok,
            multiplier=self.multiplier,
            benchmark_input_per_mtok=self.benchmark[0],
            benchmark_output_per_mtok=self.benchmark[1],
        )

    def cached_cost(self, outcome: CallOutcome, *, share: Decimal) -> CallCost:
        """A cached answer: no provider cost, `share` of the credits the same tokens cost
        the first time, and the benchmark cost they would have had (FinOps' savings)."""
        if not isinstance(share, Decimal) or not Decimal(0) <= share <= Decimal(1):
            raise ValueError("The cached-answer share is a Decimal from 0 to 1")
        original = self.cost(outcome)
        return CallCost(
            raw_cost=Decimal(0),
            display_cost=(original.display_cost * share).quantize(STORAGE_QUANTUM),
            multiplier=original.multiplier,
            benchmark_cost=original.benchmark_cost,
        )


# Statements ------------------------------------------------------------------------------

_OPEN = """
INSERT INTO usage_modelcall (
    organization_id, user_id, api_key_id, conversation_id, request_id, attempt, fallback_of_id,
    provider_id, model_id, end_user, assistant_family, task_type, route_reasons,
    display_multiplier, status, error, input_tokens, output_tokens, deadline_at, at
) VALUES (
    %(org_id)s, %(user_id)s, %(api_key_id)s, %(conversation_id)s, %(request_id)s, %(attempt)s,
    %(fallback_of_id)s, %(provider_id)s, %(model_id)s, %(end_user)s, %(assistant_family)s,
    %(task_type)s, %(route_reasons)s, %(display_multiplier)s, 'pending', '', 0, 0,
    %(deadline_at)s, now()
) RETURNING id
"""
_STREAMING = """
UPDATE usage_modelcall SET status = 'streaming'
WHERE id = %(call_id)s AND organization_id = %(org_id)s AND status = 'pending'
RETURNING id
"""
# The count only grows, so a late or reordered update never lowers what the reconciler bills.
_PROGRESS = """
UPDATE usage_modelcall
SET output_tokens = %(output_tokens)s, input_tokens = coalesce(%(input_tokens)s, input_tokens)
WHERE id = %(call_id)s AND organization_id = %(org_id)s
  AND status IN ('pending', 'streaming') AND output_tokens <= %(output_tokens)s
"""
# Only an open call with no recorded output: a late report never overwrites a finished call.
_FAIL = """
UPDATE usage_modelcall
SET status = %(status)s, error = %(error)s, latency_ms = %(latency_ms)s, finished_at = %(now)s
WHERE id = %(call_id)s AND organization_id = %(org_id)s
  AND status IN ('pending', 'streaming') AND output_tokens = 0
RETURNING id
"""
# The bill is a database function (usage/migrations/0005_model_call_bill.py): one statement,
# so one round trip and one transaction wherever it runs, with the call's row locked.
_BILL = """
SELECT usage_id, user_id FROM usage_model_call_bill(
    %(org_id)s, %(call_id)s, %(request_id)s, %(status)s, %(input_tokens)s, %(output_tokens)s,
    %(latency_ms)s, %(ttft_ms)s, %(now)s, %(billable)s, %(raw_cost)s, %(display_cost)s,
    %(multiplier)s, %(benchmark_cost)s, %(currency)s, %(note)s
)
"""


def model_call_open_sql(
    *,
    org_id: int,
    user_id: int | None,
    api_key_id: int | None,
    conversation_id: int | None,
    request_id: str,
    attempt: int,
    fallback_of_id: int | None,
    provider_id: int,
    model_id: int,
    assistant_family: str,
    task_type: str,
    route_reasons: Sequence[Any],  # JSON-serialisable: why chosen, why others were not
    deadline_at: datetime,
    display_multiplier: Decimal,
    end_user: str = "",
) -> Sql:
    """Open one provider attempt as pending; it returns the call's id. Reusing (request_id,
    attempt) fails on the unique constraint. `end_user` is the customer's own user, if sent:
    it rides on this insert, so attribution costs the chat path no round trip."""
    if not request_id or len(request_id) > 64:
        raise ValueError("request_id must be 1 to 64 characters")
    if len(end_user) > END_USER_MAX:
        raise ValueError(f"end_user is at most {END_USER_MAX} characters")
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if not isinstance(display_multiplier, Decimal) or display_multiplier <= 0:
        raise TypeError("The display multiplier is a positive Decimal, never a float")
    return Sql(
        _OPEN,
        {
            "org_id": org_id,
            "user_id": user_id,
            "api_key_id": api_key_id,
            "conversation_id": conversation_id,
            "request_id": request_id,
            "attempt": attempt,
            "fallback_of_id": fallback_of_id,
            "provider_id": provider_id,
            "model_id": model_id,
            "end_user": end_user,
            "assistant_family": assistant_family,
            "task_type": task_type,
            "route_reasons": Jsonb(list(route_reasons)),
            "display_multiplier": display_multiplier,
            "deadline_at": deadline_at,
        },
    )


def model_call_streaming_sql(*, org_id: int, call_id: int) -> Sql:
    """pending -> streaming (the first token went out); returns a row only if it changed."""
    return Sql(_STREAMING, {"org_id": org_id, "call_id": call_id})


def model_call_progress_sql(
    *, org_id: int, call_id: int, output_tokens: int, input_tokens: int | None = None
) -> Sql:
    """The running token estimate of an open call: what the reconciler bills if it must."""
    params = {"org_id": org_id, "call_id": call_id, "output_tokens": output_tokens}
    return Sql(_PROGRESS, params | {"input_tokens": input_tokens})


def model_call_fail_sql(
    *, org_id: int, call_id: int, error: str, status: str, latency_ms: int | None, now: datetime
) -> Sql:
    """Close an attempt that delivered no tokens; returns a row only if it closed it."""
    if status not in (CallStatus.FAILED, CallStatus.CANCELLED):
        raise ValueError(f"model_call_fail takes failed or cancelled, not {status!r}")
    params = {"org_id": org_id, "call_id": call_id, "status": status, "now": now}
    return Sql(_FAIL, params | {"error": error_redact(error), "latency_ms": latency_ms})


def model_call_bill_sql(
    *,
    org_id: int,
    call_id: int,
    request_id: str,
    outcome: CallOutcome,
    cost: CallCost | None,
    currency: str,
    model_slug: str,
) -> Sql:
    """Record the outcome and bill it (usage, cost and the ledger debit) unless the request
    was billed already. Returns a row (usage record id, user id) only when it billed now.
    `cost` is None when the outcome is not billable."""
    priced = cost or CallCost(Decimal(0), Decimal(0), Decimal(1), Decimal(0))
    note = f"{model_slug} {request_id}{' (incomplete)' if outcome.incomplete else ''}"
    params = {
        "org_id": org_id,
        "call_id": call_id,
        "request_id": request_id,
        "status": outcome.status,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "latency_ms": outcome.latency_ms,
        "ttft_ms": outcome.ttft_ms,
        "now": outcome.finished_at,
        "billable": cost is not None and outcome.billable,
        "raw_cost": priced.raw_cost,
        "display_cost": priced.display_cost,
        "multiplier": priced.multiplier,
        "benchmark_cost": priced.benchmark_cost,
        "currency": currency,
        "note": note,
    }
    return Sql(_BILL, params)


# Services on Django's connection (tasks, admin, tests) -----------------------------------


def model_call_start(
    *,
    org: Organization,
    user: User | None,
    api_key: ApiKey | None,
    conversation_id: int | None,
    request_id: str,
    attempt: int,
    fallback_of_id: int | None,
    provider_id: int,
    model_id: int,
    assistant_family: str,
    task_type: str,
    route_reasons: Sequence[Any],
    deadline_at: datetime | None,
    display_multiplier: Decimal,
    end_user: str = "",
) -> ModelCall:
    """Open one provider attempt as pending. Reusing (request_id, attempt) raises IntegrityError.

    Every call gets a deadline (a default when none is given) so the reconciler can always
    close it if the worker dies.
    """
    if api_key is not None and api_key.organization_id != org.pk:
        raise ValueError("the API key belongs to another organisation")
    if deadline_at is None:
        deadline_at = timezone.now() + timedelta(seconds=settings.MODEL_CALL_DEADLINE_SECONDS)
    row = sql_run(
        model_call_open_sql(
            org_id=org.pk,
            user_id=user.pk if user else None,
            api_key_id=api_key.pk if api_key else None,
            conversation_id=conversation_id,
            request_id=request_id,
            attempt=attempt,
            fallback_of_id=fallback_of_id,
            provider_id=provider_id,
            model_id=model_id,
            assistant_family=assistant_family,
            task_type=task_type,
            route_reasons=route_reasons,
            deadline_at=deadline_at,
            display_multiplier=display_multiplier,
            end_user=end_user,
        )
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return ModelCall.objects.get(pk=row[0])


def model_call_mark_streaming(*, call_id: int) -> bool:
    """pending -> streaming with one conditional UPDATE; False when the call was not pending."""
    return sql_run(model_call_streaming_sql(org_id=_org_of(call_id), call_id=call_id)) is not None


def model_call_update_progress(
    *, call_id: int, output_tokens: int, input_tokens: int | None = None
) -> None:
    """Store the running token estimate of an open call: one UPDATE, no lock, no billing."""
    sql_run(
        model_call_progress_sql(
            org_id=_org_of(call_id),
            call_id=call_id,
            output_tokens=output_tokens,
            input_tokens=input_tokens,
        )
    )


def model_call_fail(
    *,
    call_id: int,
    error: str,
    status: str = CallStatus.FAILED,
    latency_ms: int | None = None,
    now: datetime | None = None,
) -> None:
    """Close an attempt that delivered no tokens (failed or cancelled); never bills.

    If progress shows tokens were delivered after all, they are billed as an incomplete
    answer, because the customer has seen them.
    """
    now = now or timezone.now()
    call = ModelCall.objects.select_related("organization").get(pk=call_id)
    sql = model_call_fail_sql(
        org_id=call.organization_id,
        call_id=call_id,
        error=error,
        status=status,
        latency_ms=latency_ms,
        now=now,
    )
    if sql_run(sql) is None:
        model_call_fail_delivered(call=call, error=error, status=status, latency_ms=latency_ms)


def model_call_fail_delivered_by_id(*, call_id: int, error: str, latency_ms: int | None) -> None:
    """`model_call_fail_delivered` for the chat path, which knows only the call's id."""
    call = ModelCall.objects.select_related("organization").get(pk=call_id)
    model_call_fail_delivered(
        call=call, error=error, status=CallStatus.FAILED, latency_ms=latency_ms
    )


def model_call_fail_delivered(
    *, call: ModelCall, error: str, status: str, latency_ms: int | None
) -> None:
    """A failure reported for a call whose progress shows delivered tokens: bill those."""
    call.refresh_from_db()
    if call.status not in OPEN_STATUSES or call.output_tokens == 0:
        return  # already finished: a late report changes nothing
    ModelCall.objects.filter(pk=call.pk).update(error=error_redact(error))
    model_call_finish(
        org=call.organization,
        call_id=call.pk,
        request_id=call.request_id,
        status=status,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        latency_ms=latency_ms,
        ttft_ms=call.ttft_ms,
        incomplete=True,
    )


def model_call_finish(
    *,
    org: Organization,
    call_id: int,
    request_id: str,
    status: str,
    input_tokens: int,
    output_tokens: int,
    latency_ms: int | None,
    ttft_ms: int | None,
    incomplete: bool,
    now: datetime | None = None,
) -> BilledUsage | None:
    """Record an attempt's outcome and bill it at most once per (org, request_id).

    One transaction with the call row locked, priced at the call's model and multiplier.
    Billed when output_tokens > 0 or the call succeeded: one UsageRecord, one CostRecord and
    one usage ledger row. A request already billed (retry, other attempt, reconciler) writes
    nothing and returns created=False; None means nothing was billable. Safe to call
    concurrently for the same request.
    """
    outcome = CallOutcome(
        status=status,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        incomplete=incomplete,
        finished_at=now or timezone.now(),
    )
    call = ModelCall.objects.for_org(org).select_related("model").get(pk=call_id)
    prices = CallPrices.of_call(call)
    with transaction.atomic():
        billed = _bill(call=call, request_id=request_id, outcome=outcome, prices=prices)
    if billed is not None and billed.created:
        transaction.on_commit(
            lambda: abuse_record_high_cost_call(
                org=org, user_id=call.user_id, display_cost=billed.display_cost
            ),
            robust=True,  # a Redis hiccup must not turn a billed answer into an error
        )
    return billed


def model_call_finish_at(
    *, org: Organization, call: ModelCall, outcome: CallOutcome, prices: CallPrices
) -> BilledUsage | None:
    """`model_call_finish` at prices other than the call's model's own (a better answer
    billed at the economy answer's prices). Billed at most once per request id."""
    if call.organization_id != org.pk:
        raise ValueError("the call belongs to another organisation")
    with transaction.atomic():
        return _bill(call=call, request_id=call.request_id, outcome=outcome, prices=prices)


def _bill(
    *, call: ModelCall, request_id: str, outcome: CallOutcome, prices: CallPrices
) -> BilledUsage | None:
    cost = prices.cost(outcome) if outcome.billable else None
    sql = model_call_bill_sql(
        org_id=call.organization_id,
        call_id=call.pk,
        request_id=request_id,
        outcome=outcome,
        cost=cost,
        currency=prices.currency,
        model_slug=call.model.slug,
    )
    row = sql_run(sql)
    if row is None or cost is None:
        return usage_billed(org_id=call.organization_id, request_id=request_id)
    return BilledUsage(
        usage_record_id=row[0],
        raw_cost=cost.raw_cost,
        display_cost=cost.display_cost,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        created=True,
    )


def usage_billed(*, org_id: int, request_id: str) -> BilledUsage | None:
    """The bill an earlier attempt wrote for this request (created=False), if any."""
    usage = (
        UsageRecord.objects.filter(organization_id=org_id, request_id=request_id)
        .select_related("model_call__cost")
        .first()
    )
    if usage is None:
        return None
    call = usage.model_call
    return BilledUsage(
        usage_record_id=usage.pk,
        raw_cost=call.cost.raw_cost,
        display_cost=usage.display_units,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        created=False,
    )


def model_call_reconcile_stuck(*, now: datetime | None = None, grace_seconds: int = 30) -> int:
    """Finalise calls a dead worker left open; returns how many. Safe concurrently and twice.

    Pending calls past their deadline never got a token: they fail, unbilled, in one
    conditional UPDATE. Streaming ones are claimed one by one (healthchecks' sendalerts) and
    billed as cancelled and incomplete for the tokens their progress recorded.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    finalised = ModelCall.objects.filter(
        _overdue(cutoff), status=CallStatus.PENDING, output_tokens=0
    ).update(status=CallStatus.FAILED, error=PENDING_ERROR, finished_at=now)
    # A pending call with recorded progress did deliver tokens: bill it like a streaming one.
    stuck = (
        ModelCall.objects.filter(_overdue(cutoff), _delivered_but_open())
        .select_related("organization", "model")
        .order_by("deadline_at")[:RECONCILE_BATCH]
    )
    for call in stuck:
        try:
            finalised += _call_reconcile(call=call, cutoff=cutoff, now=now)
        except Exception:
            # One bad row must not keep the others open; it is retried on the next run.
            logger.exception("Could not reconcile model call %s", call.pk)
    return finalised


def error_redact(error: str) -> str:
    """A one-line error summary with key-like strings and long quoted text masked."""
    text = " ".join(str(error).split())
    text = _LONG_QUOTES.sub('"[redacted]"', text)
    return _SECRETS.sub("[redacted]", text)[:_ERROR_MAX]


def _org_of(call_id: int) -> int:
    org_id: int = ModelCall.objects.values_list("organization_id", flat=True).get(pk=call_id)
    return org_id


def _overdue(cutoff: datetime) -> Q:
    seconds = settings.MODEL_CALL_DEADLINE_SECONDS
    # Rows written without a deadline get the default one, counted from when they started.
    return Q(deadline_at__lt=cutoff) | Q(
        deadline_at__isnull=True, at__lt=cutoff - timedelta(seconds=seconds)
    )


def _delivered_but_open() -> Q:
    return Q(status=CallStatus.STREAMING) | Q(status=CallStatus.PENDING, output_tokens__gt=0)


def _call_reconcile(*, call: ModelCall, cutoff: datetime, now: datetime) -> int:
    with transaction.atomic():
        # The claim: only one reconciler moves the call out of streaming. A concurrent one
        # (or the stream's own late finish) waits on the row lock, then matches nothing.
        claimed = ModelCall.objects.filter(
            _overdue(cutoff), _delivered_but_open(), pk=call.pk
        ).update(status=CallStatus.CANCELLED, error=STUCK_ERROR)
        if not claimed:
            return 0
        call.refresh_from_db(fields=["input_tokens", "output_tokens", "latency_ms", "ttft_ms"])
        outcome = CallOutcome(
            status=CallStatus.CANCELLED,
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            latency_ms=call.latency_ms,
            ttft_ms=call.ttft_ms,
            incomplete=True,
            finished_at=now,
        )
        _bill(
            call=call, request_id=call.request_id, outcome=outcome, prices=CallPrices.of_call(call)
        )
    return 1
