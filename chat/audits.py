"""Shadow audits: a sampled economy answer re-asked of the reference model and judged, off the
request path, at the platform's cost; and the better answer a poor audit offers the user.

The chat path only samples (`audit_sample`, no database step) and enqueues after the bill; the
Celery task does the rest. The audit's provider calls are platform spend kept on the
ShadowAudit row: no UsageRecord, CostRecord or ledger row is written for them, so the
customer is never billed for an audit.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Organization, User
from accounts.tenancy import get_for_org
from billing.errors import InsufficientCredits
from billing.selectors import credit_balance, subscription_get_live
from chat.errors import PLAN_REQUEST_URL, BetterAnswerUnavailable, DuplicateRequest
from chat.models import Message, MessageRole
from chat.providers.base import (
    ChatMessage,
    CompletionRequest,
    Delta,
    ProviderError,
    ProviderTarget,
    Timeouts,
    Usage,
)
from chat.providers.clients import aclose_all, adapter_for
from routing.errors import InvalidRequest
from routing.judging import EXACT_TASKS, Judgement, exact_check, judge_prompt, judge_reply_parse
from routing.learning import verdict_of
from routing.models import AIModel, AuditVerdict, ShadowAudit
from routing.policy import EXPLORATION_AUDIT_RATE
from routing.precheck.classifier import estimate_tokens
from routing.types import ModelInfo
from usage.models import ModelCall
from usage.services import CallOutcome, CallPrices, model_call_finish_at, model_call_start

logger = logging.getLogger(__name__)
AUDIT_MAX_TOKENS = 1024
BETTER_REASON = "better answer after a poor shadow audit, billed at the economy price"


def audit_sampled(*, target: ModelInfo, rate: Decimal, benchmark_output_price: Decimal) -> bool:
    """Whether to audit this answer: economy tier (cheaper than the benchmark model) and drawn
    at the plan's or organisation's rate. Pure: no I/O on the chat path."""
    if rate <= 0 or target.output_cost_per_mtok >= benchmark_output_price:
        return False
    return random.random() < float(rate)  # noqa: S311 - sampling, not security


def audit_rate_for(*, plan_rate: Decimal, exploring: bool) -> Decimal:
    """The share of answers to audit: an exploration answer is there to be learned from, so at
    least EXPLORATION_AUDIT_RATE, unless the organisation's answers are not audited at all."""
    if plan_rate <= 0 or not exploring:
        return plan_rate
    return max(plan_rate, EXPLORATION_AUDIT_RATE)


def audit_enqueue(*, org_id: int, call_id: int, complexity: str) -> None:
    """Hand the audit to Celery without holding up the answer: the broker write runs in a
    worker thread that nothing waits on, and a failure only costs this one sample."""
    from chat.tasks import shadow_audit_run_task

    def send() -> None:
        try:
            shadow_audit_run_task.delay(org_id, call_id, complexity)
        except Exception:  # the answer is delivered either way
            logger.warning("shadow audit not enqueued", extra={"call_id": call_id})

    asyncio.get_running_loop().run_in_executor(None, send)


def _turn_texts(org: Organization, call: ModelCall) -> tuple[str, str] | None:
    """(prompt, answer) of the call's turn, from the organisation's own conversation."""
    answer = (
        Message.objects.for_org(org)
        .filter(model_call=call, role=MessageRole.ASSISTANT, incomplete=False)
        .first()
    )
    if answer is None:
        return None
    prompt = (
        Message.objects.for_org(org)
        .filter(conversation_id=answer.conversation_id, role=MessageRole.USER)
        .filter(created_at__lte=answer.created_at, id__lt=answer.id)
        .order_by("-created_at", "-id")
        .first()
    )
    return (prompt.content, answer.content) if prompt else None


def audit_spent_today(*, org: Organization, now: datetime) -> Decimal:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    total = ShadowAudit.objects.for_org(org).filter(at__gte=start).aggregate(s=Sum("raw_cost"))
    return total["s"] or Decimal(0)


def _target(model: AIModel, slug: str | None = None) -> ProviderTarget:
    provider = model.provider
    return ProviderTarget(
        provider.slug, provider.kind, provider.api_base, provider.key_env, slug or model.slug
    )


async def _complete(target: ProviderTarget, prompt: str) -> tuple[str, Usage]:
    request = CompletionRequest(
        messages=(ChatMessage("user", prompt),), max_tokens=AUDIT_MAX_TOKENS
    )
    parts: list[str] = []
    usage: Usage | None = None
    async for item in adapter_for(target).stream(target, request, Timeouts()):
        if isinstance(item, Delta):
            parts.append(item.text)
        else:
            usage = item.usage
    text = "".join(parts)
    return text, usage or Usage(estimate_tokens(prompt), estimate_tokens(text))


def _cost(model: AIModel, *usages: Usage) -> Decimal:
    total = Decimal(0)
    for usage in usages:
        total += model.input_cost_per_mtok * usage.input_tokens
        total += model.output_cost_per_mtok * usage.output_tokens
    return total / Decimal(1_000_000)


async def _judged(
    reference: AIModel, task_type: str, prompt: str, answer: str
) -> tuple[str, Judgement, Decimal]:
    """(reference answer, judgement, platform cost); the judge runs on the reference's
    provider and is priced at the reference model's prices."""
    reference_text, used = await _complete(_target(reference), prompt)
    exact = exact_check(task_type, answer, reference_text) if task_type in EXACT_TASKS else None
    if exact is not None:
        return reference_text, exact, _cost(reference, used)
    judge = _target(reference, settings.SHADOW_AUDIT_JUDGE_MODEL)
    rubric = judge_prompt(prompt=prompt, answer=answer, reference=reference_text)
    verdict_text, judge_used = await _complete(judge, rubric)
    return reference_text, judge_reply_parse(verdict_text), _cost(reference, used, judge_used)


def _judge_sync(
    reference: AIModel, task_type: str, prompt: str, answer: str
) -> tuple[str, Judgement, Decimal]:
    async def run() -> tuple[str, Judgement, Decimal]:
        try:
            return await _judged(reference, task_type, prompt, answer)
        finally:
            await aclose_all()

    return asyncio.run(run())


def shadow_audit_run(
    *, org_id: int, call_id: int, complexity: str, now: datetime | None = None
) -> ShadowAudit | None:
    """Audit one of `org_id`'s answers, at most once per model call: the row is claimed
    before any provider is called (idempotency (a), the model call is unique), and a second
    run returns the first run's row. Skipped (None) when the organisation's audit spend for
    today is used up or the answer cannot be read. Never bills the organisation."""
    now = now or timezone.now()
    org = Organization.objects.get(pk=org_id)
    call = ModelCall.objects.for_org(org).select_related("model").filter(pk=call_id).first()
    reference = (
        AIModel.objects.select_related("provider")
        .filter(slug=settings.SHADOW_AUDIT_REFERENCE_MODEL, active=True)
        .first()
    )
    if call is None or reference is None or call.model_id == reference.pk:
        return None
    existing = ShadowAudit.objects.for_org(org).filter(model_call=call).first()
    if existing is not None:
        return existing
    subscription = subscription_get_live(org=org)
    budget = subscription.plan.audit_daily_budget if subscription else Decimal(0)
    texts = _turn_texts(org, call)
    if texts is None or audit_spent_today(org=org, now=now) >= budget:
        return None
    audit, created = ShadowAudit.objects.get_or_create(
        model_call=call,
        defaults={
            "organization": org,
            "task_type": call.task_type or "chat",
            "complexity": complexity,
            "economy_model": call.model,
            "reference_model": reference,
            "score": 0,
        },
    )
    if not created:
        return audit
    return _audit_finish(audit, reference, *texts)


def _audit_finish(audit: ShadowAudit, reference: AIModel, prompt: str, answer: str) -> ShadowAudit:
    try:
        reference_text, judgement, cost = _judge_sync(reference, audit.task_type, prompt, answer)
    except (ProviderError, ValueError) as error:
        audit.verdict, audit.reason = AuditVerdict.ERROR, str(error)[:200]
        audit.save(update_fields=["verdict", "reason"])
        return audit
    audit.score, audit.verdict = round(judgement.score, 4), verdict_of(judgement.score)
    audit.method, audit.reason, audit.raw_cost = judgement.method, judgement.reason, cost
    audit.reference_answer = reference_text
    audit.save(
        update_fields=["score", "verdict", "method", "reason", "raw_cost", "reference_answer"]
    )
    return audit


def _ask_sync(model: AIModel, prompt: str) -> tuple[str, Usage]:
    async def run() -> tuple[str, Usage]:
        try:
            return await _complete(_target(model), prompt)
        finally:
            await aclose_all()

    return asyncio.run(run())


def better_answer_deliver(*, org: Organization, user: User, call_id: int) -> Message:
    """After a poor audit, re-ask the prompt of the audit's stronger model (a real provider
    call) and add its answer to the conversation, billed at the economy answer's prices. Once
    per audit: the call is claimed under its own request id before the provider is asked, and a
    second request returns the message already delivered."""
    call = get_for_org(
        ModelCall.objects.select_related("model", "conversation"), org=org, pk=call_id
    )
    audit = (
        ShadowAudit.objects.for_org(org)
        .filter(model_call=call)
        .select_related("reference_model__provider")
        .first()
    )
    texts = _turn_texts(org, call)
    if audit is None or audit.verdict != AuditVerdict.POOR or texts is None:
        raise InvalidRequest("answer: no better answer is available for this answer")
    if call.conversation_id is None:
        raise InvalidRequest("answer: no better answer is available for this answer")
    request_id = f"better-{call.request_id}"[:64]
    delivered = Message.objects.for_org(org).filter(model_call__request_id=request_id).first()
    if delivered is not None:
        return delivered
    prices = CallPrices.of_call(call)  # the economy answer's prices, not the reference's
    _better_affordable(org, prices, call.input_tokens, estimate_tokens(audit.reference_answer))
    better = _better_claim(org, user, call, audit, request_id)
    try:
        text, usage = _ask_sync(audit.reference_model, texts[0])
    except ProviderError as error:
        failed = CallOutcome("failed", 0, 0, None, None, False, timezone.now())
        model_call_finish_at(org=org, call=better, outcome=failed, prices=prices)
        raise BetterAnswerUnavailable(f"The stronger model could not answer: {error}") from error
    outcome = CallOutcome(
        "succeeded", usage.input_tokens, usage.output_tokens, None, None, False, timezone.now()
    )
    model_call_finish_at(org=org, call=better, outcome=outcome, prices=prices)
    message = Message.objects.create(
        organization=org,
        conversation_id=call.conversation_id,
        role=MessageRole.ASSISTANT,
        content=text,
        model_call=better,
    )
    ShadowAudit.objects.filter(pk=audit.pk).update(better_answer_requested_at=timezone.now())
    return message


def _better_affordable(org: Organization, prices: CallPrices, inputs: int, outputs: int) -> None:
    """Refuse before any provider call when the credits cannot pay an answer as long as the
    audit's reference answer, at the economy prices."""
    estimate = CallOutcome("succeeded", inputs, outputs, 0, 0, False, timezone.now())
    credits = prices.cost(estimate).display_cost
    if credits > credit_balance(org=org):
        raise InsufficientCredits(
            f"Not enough credits for the better answer (about {credits:.2f} credits).",
            {"plan_request_url": PLAN_REQUEST_URL},
        )


def _better_claim(
    org: Organization, user: User, call: ModelCall, audit: ShadowAudit, request_id: str
) -> ModelCall:
    """The better answer's model call, claimed before the provider is asked: a failed earlier
    try leaves its row, so this is the next attempt; a concurrent claim of the same attempt
    loses on the unique (organisation, request id, attempt) and is refused."""
    attempt = ModelCall.objects.for_org(org).filter(request_id=request_id).count() + 1
    try:
        with transaction.atomic():
            return model_call_start(
                org=org,
                user=user,
                api_key=None,
                conversation_id=call.conversation_id,
                request_id=request_id,
                attempt=attempt,
                fallback_of_id=call.pk,
                provider_id=audit.reference_model.provider_id,
                model_id=audit.reference_model_id,
                assistant_family=call.assistant_family,
                task_type=call.task_type,
                route_reasons=[BETTER_REASON],
                deadline_at=None,
                display_multiplier=call.display_multiplier,
            )
    except IntegrityError as error:
        raise DuplicateRequest("The better answer is already being prepared.") from error
