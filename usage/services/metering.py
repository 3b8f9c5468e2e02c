"""Metering: one ModelCall per provider attempt, one usage/cost/ledger set per billed request.

Every write is a short `transaction.atomic()` block; nothing here waits on a provider. The
unique (organization, request_id) of UsageRecord is the idempotency key: whoever finishes a
request first (the stream's `finally`, a retry, the reconciler) bills it, everyone after gets
the same bill back with `created=False`.
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
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import ApiKey, Organization, User
from billing.models import CreditLedger, LedgerKind
from billing.pricing import benchmark_prices, price_call
from usage.models import CallStatus, CostRecord, ModelCall, UsageRecord
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
class _Outcome:
    status: str
    input_tokens: int
    output_tokens: int
    latency_ms: int | None
    ttft_ms: int | None
    incomplete: bool
    finished_at: datetime


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
    route_reasons: Sequence[Any],  # JSON-serialisable: why chosen, why others were not
    deadline_at: datetime | None,
    display_multiplier: Decimal,
) -> ModelCall:
    """Open one provider attempt as pending. Reusing (request_id, attempt) raises IntegrityError.

    Every call gets a deadline (a default when none is given) so the reconciler can always
    close it if the worker dies.
    """
    if not request_id or len(request_id) > 64:
        raise ValueError("request_id must be 1 to 64 characters")
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if not isinstance(display_multiplier, Decimal) or display_multiplier <= 0:
        raise TypeError("The display multiplier is a positive Decimal, never a float")
    if api_key is not None and api_key.organization_id != org.pk:
        raise ValueError("the API key belongs to another organisation")
    if deadline_at is None:
        seconds = settings.MODEL_CALL_DEADLINE_SECONDS
        deadline_at = timezone.now() + timedelta(seconds=seconds)
    return ModelCall.objects.create(
        organization=org,
        user=user,
        api_key=api_key,
        conversation_id=conversation_id,
        request_id=request_id,
        attempt=attempt,
        fallback_of_id=fallback_of_id,
        provider_id=provider_id,
        model_id=model_id,
        assistant_family=assistant_family,
        display_multiplier=display_multiplier,
        task_type=task_type,
        route_reasons=list(route_reasons),
        status=CallStatus.PENDING,
        deadline_at=deadline_at,
    )


def model_call_mark_streaming(*, call_id: int) -> bool:
    """pending -> streaming with one conditional UPDATE; False when the call was not pending."""
    return bool(
        ModelCall.objects.filter(pk=call_id, status=CallStatus.PENDING).update(
            status=CallStatus.STREAMING
        )
    )


def model_call_update_progress(
    *, call_id: int, output_tokens: int, input_tokens: int | None = None
) -> None:
    """Store the running token estimate of an open call: one UPDATE, no lock, no billing.

    The count only grows, so a late or reordered update never lowers what the reconciler bills.
    """
    fields: dict[str, int] = {"output_tokens": output_tokens}
    if input_tokens is not None:
        fields["input_tokens"] = input_tokens
    ModelCall.objects.filter(
        pk=call_id, status__in=OPEN_STATUSES, output_tokens__lte=output_tokens
    ).update(**fields)


def model_call_fail(
    *,
    call_id: int,
    error: str,
    status: str = CallStatus.FAILED,
    latency_ms: int | None = None,
    now: datetime | None = None,
) -> None:
    """Close an attempt that delivered no tokens (failed or cancelled); never bills.

    Only an open call with no recorded output changes, so a late report cannot overwrite a
    finished call. If progress shows tokens were delivered after all, they are billed as an
    incomplete answer, because the customer has seen them.
    """
    if status not in (CallStatus.FAILED, CallStatus.CANCELLED):
        raise ValueError(f"model_call_fail takes failed or cancelled, not {status!r}")
    now = now or timezone.now()
    redacted = error_redact(error)
    changed = ModelCall.objects.filter(
        pk=call_id, status__in=OPEN_STATUSES, output_tokens=0
    ).update(status=status, error=redacted, latency_ms=latency_ms, finished_at=now)
    if changed:
        return
    call = ModelCall.objects.select_related("organization").get(pk=call_id)
    if call.status in OPEN_STATUSES and call.output_tokens > 0:
        ModelCall.objects.filter(pk=call_id).update(error=redacted)
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
            now=now,
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

    One atomic block with the call row locked. Billed when output_tokens > 0 or the call
    succeeded: one UsageRecord, one CostRecord and one usage ledger row. A request already
    billed (retry, other attempt, reconciler) writes nothing and returns created=False; None
    means nothing was billable. Safe to call concurrently for the same request.
    """
    if status not in FINAL_STATUSES:
        raise ValueError(f"A finished call is succeeded, failed or cancelled, not {status!r}")
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError("Token counts are not negative")
    outcome = _Outcome(
        status=status,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        incomplete=incomplete,
        finished_at=now or timezone.now(),
    )
    with transaction.atomic():
        call = _call_lock(org=org, call_id=call_id, request_id=request_id)
        return _call_finalise(call=call, outcome=outcome)


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
        .select_related("organization")
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
        locked = _call_lock(org=call.organization, call_id=call.pk, request_id=call.request_id)
        outcome = _Outcome(
            status=CallStatus.CANCELLED,
            input_tokens=locked.input_tokens,
            output_tokens=locked.output_tokens,
            latency_ms=locked.latency_ms,
            ttft_ms=locked.ttft_ms,
            incomplete=True,
            finished_at=now,
        )
        _call_finalise(call=locked, outcome=outcome)
    return 1


@dataclass(frozen=True)
class _LockedCall:
    """What finalising and billing read of a row-locked call.

    Read as plain values: building the model instances (a call, its model and its user have
    some fifty columns between them) cost more than the rest of the billing transaction.
    """

    pk: int
    organization: Organization
    user_id: int | None
    request_id: str
    finished_at: datetime | None
    display_multiplier: Decimal
    input_tokens: int
    output_tokens: int
    latency_ms: int | None
    ttft_ms: int | None
    model_slug: str
    currency: str
    input_cost_per_mtok: Decimal
    output_cost_per_mtok: Decimal
    billed: bool  # some attempt of this request was billed already


def _call_lock(*, org: Organization, call_id: int, request_id: str) -> _LockedCall:
    billed = UsageRecord.objects.filter(
        organization=OuterRef("organization"), request_id=OuterRef("request_id")
    )
    row = (
        ModelCall.objects.for_org(org)
        .select_for_update(of=("self",))
        .annotate(billed=Exists(billed))
        .filter(pk=call_id, request_id=request_id)
        .values(
            *("pk", "user_id", "request_id", "finished_at", "display_multiplier", "billed"),
            *("input_tokens", "output_tokens", "latency_ms", "ttft_ms"),
            model_slug=F("model__slug"),
            currency=F("model__currency"),
            input_cost_per_mtok=F("model__input_cost_per_mtok"),
            output_cost_per_mtok=F("model__output_cost_per_mtok"),
        )
        .get()
    )
    return _LockedCall(organization=org, **row)


def _call_finalise(*, call: _LockedCall, outcome: _Outcome) -> BilledUsage | None:
    """The one code path that bills; the caller holds the call's row lock.

    A billed request is final. Until then the latest report wins, so a late real result
    replaces a reconciler's guess.
    """
    if call.billed:
        if call.finished_at is None:  # another attempt was billed: still record this one
            _call_record(call, outcome)
        existing = _usage_for_request(org=call.organization, request_id=call.request_id)
        return _billed_from(existing, created=False)
    _call_record(call, outcome)
    if outcome.output_tokens == 0 and outcome.status != CallStatus.SUCCEEDED:
        return None
    try:
        # A savepoint: a concurrent attempt of the same request may insert first, and the
        # unique constraint then fails only this insert, not the outcome recorded above.
        with transaction.atomic():
            billed = _bill(call=call, outcome=outcome)
    except IntegrityError:
        existing = _usage_for_request(org=call.organization, request_id=call.request_id)
        if existing is None:
            raise
        return _billed_from(existing, created=False)
    transaction.on_commit(
        lambda: abuse_record_high_cost_call(
            org=call.organization, user_id=call.user_id, display_cost=billed.display_cost
        ),
        robust=True,  # a Redis hiccup must not turn a billed answer into an error
    )
    return billed


def _call_record(call: _LockedCall, outcome: _Outcome) -> None:
    ModelCall.objects.for_org(call.organization).filter(pk=call.pk).update(
        status=outcome.status,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        latency_ms=outcome.latency_ms,
        ttft_ms=outcome.ttft_ms,
        finished_at=outcome.finished_at,
    )


def _bill(*, call: _LockedCall, outcome: _Outcome) -> BilledUsage:
    benchmark_input, benchmark_output = benchmark_prices()
    cost = price_call(
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        input_cost_per_mtok=call.input_cost_per_mtok,
        output_cost_per_mtok=call.output_cost_per_mtok,
        multiplier=call.display_multiplier,
        benchmark_input_per_mtok=benchmark_input,
        benchmark_output_per_mtok=benchmark_output,
    )
    org = call.organization
    usage = UsageRecord.objects.create(
        organization=org,
        user_id=call.user_id,
        model_call_id=call.pk,
        request_id=call.request_id,
        quantity=outcome.input_tokens + outcome.output_tokens,
        display_units=cost.display_cost,
    )
    CostRecord.objects.create(
        organization=org,
        model_call_id=call.pk,
        raw_cost=cost.raw_cost,
        display_cost=cost.display_cost,
        multiplier=cost.multiplier,
        benchmark_cost=cost.benchmark_cost,
        currency=call.currency,
    )
    CreditLedger.objects.create(
        organization=org,
        user_id=call.user_id,
        kind=LedgerKind.USAGE,
        credits=-cost.display_cost,
        model_call_id=call.pk,
        note=f"{call.model_slug} {call.request_id}{' (incomplete)' if outcome.incomplete else ''}",
    )
    return BilledUsage(
        usage_record_id=usage.pk,
        raw_cost=cost.raw_cost,
        display_cost=cost.display_cost,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        created=True,
    )


def _usage_for_request(*, org: Organization, request_id: str) -> UsageRecord | None:
    return (
        UsageRecord.objects.for_org(org)
        .select_related("model_call__cost")
        .filter(request_id=request_id)
        .first()
    )


def _billed_from(usage: UsageRecord, *, created: bool) -> BilledUsage:
    call = usage.model_call
    return BilledUsage(
        usage_record_id=usage.pk,
        raw_cost=call.cost.raw_cost,
        display_cost=usage.display_units,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        created=created,
    )
