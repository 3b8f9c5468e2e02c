"""Shadow audits against the simulator over real HTTP: idempotent per model call, paid by
the platform (never the customer), scoped to the answer's organisation, capped per day; a
poor one offers the user the reference answer at the economy price; sampling is pure."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from django.http import Http404

from accounts.sql import sql_run
from billing.errors import InsufficientCredits
from billing.ledger import credit_balance_sql
from billing.models import CreditLedger, Plan
from chat.audits import audit_rate_for, audit_sampled, better_answer_deliver, shadow_audit_run
from chat.errors import BetterAnswerUnavailable
from chat.models import Message, MessageRole
from chat.tasks import shadow_audit_run_task
from routing.models import AIModel, ModelProvider, ShadowAudit
from routing.policy import EXPLORATION_AUDIT_RATE
from routing.types import ModelInfo
from simulator.quality import answer_text
from tests.chat.factories import ConversationFactory, MessageFactory
from tests.conftest import Tenant
from tests.usage.factories import ModelCallFactory
from usage.models import CostRecord, ModelCall, UsageRecord

pytestmark = pytest.mark.django_db
MATH = "Sam has 12 apples and buys 30 more. How many apples does he have in total?"
CHAT = "What makes a good weekend plan for a family?"
QUALITY = {"sim/economy": {"math": 0.0, "chat": 1.0}, "sim/frontier": {"math": 1.0, "chat": 1.0}}


@pytest.fixture
def sim(simulator_url: str) -> Iterator[httpx.Client]:
    ModelProvider.objects.filter(slug="simulator").update(api_base=f"{simulator_url}/v1")
    with httpx.Client(base_url=simulator_url, timeout=10) as client:
        models = {name: {"quality": quality} for name, quality in QUALITY.items()}
        assert client.put("/_sim/config", json={"models": models}).status_code == 200
        client.post("/_sim/reset")
        yield client
        client.put("/_sim/config", json={})


def answered(tenant: Tenant, prompt: str, task: str):
    """An economy answer in a conversation of `tenant`, as the simulator's economy model
    gives it."""
    economy = AIModel.objects.get(slug="sim/economy")
    conversation = ConversationFactory(organization=tenant.org, user=tenant.member)
    MessageFactory(conversation=conversation, content=prompt)
    call = ModelCallFactory(
        organization=tenant.org,
        user=tenant.member,
        conversation=conversation,
        model=economy,
        task_type=task,
    )
    text = answer_text(
        model="sim/economy", prompt=prompt, quality=QUALITY["sim/economy"], length=80
    )
    MessageFactory(
        conversation=conversation, role=MessageRole.ASSISTANT, content=text, model_call=call
    )
    return call


def balance(tenant: Tenant) -> Decimal:
    row = sql_run(credit_balance_sql(org_id=tenant.org.pk))
    return row[0] if row else Decimal(0)


def calls_to(sim: httpx.Client, model: str) -> int:
    return sim.get("/_sim/stats").json()["models"].get(model, {}).get("requests", 0)


def test_a_wrong_final_number_is_poor_by_exact_check_and_costs_the_platform_only(
    sim: httpx.Client, tenant: Tenant
) -> None:
    call = answered(tenant, MATH, "math")
    credits_before = balance(tenant)

    audit = shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low")

    assert audit is not None
    assert (audit.verdict, audit.method, audit.score) == ("poor", "exact", 0.0)
    assert audit.raw_cost > 0 and audit.reference_model.slug == "sim/frontier"
    assert balance(tenant) == credits_before
    assert not UsageRecord.objects.for_org(tenant.org).exclude(model_call=call).exists()
    assert not CostRecord.objects.for_org(tenant.org).exclude(model_call=call).exists()


def test_the_audit_task_is_idempotent_per_model_call(sim: httpx.Client, tenant: Tenant) -> None:
    call = answered(tenant, MATH, "math")
    first = shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low")
    asked = calls_to(sim, "sim/frontier")

    second = shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low")

    assert first is not None and second is not None and second.pk == first.pk
    assert ShadowAudit.objects.filter(model_call=call).count() == 1
    assert calls_to(sim, "sim/frontier") == asked  # no second provider call


def test_prose_is_scored_by_the_judge_model(sim: httpx.Client, tenant: Tenant) -> None:
    call = answered(tenant, CHAT, "chat")

    audit = shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low")

    assert audit is not None and (audit.verdict, audit.method) == ("pass", "judge")
    assert audit.score >= 0.8 and audit.reason == "matches the reference"
    assert calls_to(sim, "sim/judge") == 1


def test_an_audit_reads_only_its_own_organisations_answers(
    sim: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    call = answered(tenant, MATH, "math")

    audit = shadow_audit_run(org_id=other_tenant.org.pk, call_id=call.pk, complexity="low")

    assert audit is None
    assert not ShadowAudit.objects.exists()
    assert calls_to(sim, "sim/frontier") == 0


def test_no_audit_once_the_days_audit_budget_is_spent(sim: httpx.Client, tenant: Tenant) -> None:
    Plan.objects.filter(slug="pro").update(audit_daily_budget=Decimal("0"))
    call = answered(tenant, MATH, "math")

    assert shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low") is None
    assert calls_to(sim, "sim/frontier") == 0


def frontier_requests(sim: httpx.Client) -> int:
    return sim.get("/_sim/stats").json()["models"].get("sim/frontier", {}).get("requests", 0)


def test_a_poor_audit_offers_a_stronger_answer_asked_once_billed_at_the_economy_price(
    sim: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    call = answered(tenant, MATH, "math")
    audit = shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low")
    assert audit is not None
    asked = frontier_requests(sim)

    message = better_answer_deliver(org=tenant.org, user=tenant.member, call_id=call.pk)
    after_first = frontier_requests(sim)
    again = better_answer_deliver(org=tenant.org, user=tenant.member, call_id=call.pk)

    assert again.pk == message.pk
    assert after_first == asked + 1 == frontier_requests(sim)  # re-asked once, not re-shown
    assert message.role == "assistant" and "Final answer: " in message.content
    assert (
        message.content.split("Final answer: ")[1]
        == (audit.reference_answer.split("Final answer: ")[1])
    )  # the stronger model is right where the economy answer was wrong
    assert CostRecord.objects.filter(model_call__request_id__startswith="better-").count() == 1
    better = message.model_call
    assert better is not None and better.model.slug == "sim/frontier"
    better.refresh_from_db()
    assert better.status == "succeeded" and better.output_tokens > 0
    economy = call.model
    expected = (
        economy.input_cost_per_mtok * better.input_tokens
        + economy.output_cost_per_mtok * better.output_tokens
    ) / Decimal(1_000_000)
    assert CostRecord.objects.get(model_call=better).raw_cost == expected
    with pytest.raises(Http404):
        better_answer_deliver(org=other_tenant.org, user=other_tenant.member, call_id=call.pk)
    assert Message.objects.for_org(other_tenant.org).count() == 0


def test_a_failed_re_ask_bills_nothing_and_can_be_tried_again(
    sim: httpx.Client, tenant: Tenant
) -> None:
    call = answered(tenant, MATH, "math")
    assert shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low") is not None
    models = {name: {"quality": quality} for name, quality in QUALITY.items()}
    failing = {**models, "sim/frontier": {**models["sim/frontier"], "error_rate": 1}}
    assert sim.put("/_sim/config", json={"models": failing}).status_code == 200

    with pytest.raises(BetterAnswerUnavailable):
        better_answer_deliver(org=tenant.org, user=tenant.member, call_id=call.pk)
    failed = ModelCall.objects.for_org(tenant.org).get(request_id__startswith="better-")
    assert failed.status == "failed" and not CostRecord.objects.filter(model_call=failed).exists()
    assert sim.put("/_sim/config", json={"models": models}).status_code == 200

    message = better_answer_deliver(org=tenant.org, user=tenant.member, call_id=call.pk)

    assert message.model_call is not None and message.model_call.attempt == 2
    assert CostRecord.objects.filter(model_call=message.model_call).count() == 1


def _model(price_out: str) -> ModelInfo:
    return ModelInfo(
        slug="m",
        display_name="M",
        provider="p",
        provider_status="active",
        context_window=1000,
        supports_images=False,
        input_cost_per_mtok=Decimal("0.1"),
        output_cost_per_mtok=Decimal(price_out),
        latency_tier="fast",
        quality={},
    )


def test_sampling_takes_economy_answers_at_the_rate_and_never_the_benchmark_tier() -> None:
    benchmark = Decimal("10.00")
    economy, premium = _model("0.60"), _model("10.00")

    assert audit_sampled(target=economy, rate=Decimal(1), benchmark_output_price=benchmark)
    assert not audit_sampled(target=economy, rate=Decimal(0), benchmark_output_price=benchmark)
    assert not audit_sampled(target=premium, rate=Decimal(1), benchmark_output_price=benchmark)
    drawn = sum(
        audit_sampled(target=economy, rate=Decimal("0.05"), benchmark_output_price=benchmark)
        for _ in range(4000)
    )
    assert 120 < drawn < 290  # 5% of 4000 is 200


def test_an_exploration_answer_is_audited_more_often_unless_audits_are_off() -> None:
    plan = Decimal("0.05")

    assert audit_rate_for(plan_rate=plan, exploring=False) == plan
    assert audit_rate_for(plan_rate=plan, exploring=True) == EXPLORATION_AUDIT_RATE
    assert audit_rate_for(plan_rate=Decimal("0.8"), exploring=True) == Decimal("0.8")
    assert audit_rate_for(plan_rate=Decimal(0), exploring=True) == 0


def test_the_celery_task_audits_once_and_reports_the_same_verdict_twice(
    sim: httpx.Client, tenant: Tenant
) -> None:
    call = answered(tenant, MATH, "math")

    first = shadow_audit_run_task(tenant.org.pk, call.pk, "low")
    second = shadow_audit_run_task(tenant.org.pk, call.pk, "low")

    assert first == second == "poor"
    assert calls_to(sim, "sim/frontier") == 1


def test_no_better_answer_without_the_credits_to_pay_for_it(
    sim: httpx.Client, tenant: Tenant
) -> None:
    call = answered(tenant, MATH, "math")
    assert shadow_audit_run(org_id=tenant.org.pk, call_id=call.pk, complexity="low") is not None
    CreditLedger.objects.create(
        organization=tenant.org, kind="adjustment", credits=-balance(tenant), note="test: spent"
    )

    with pytest.raises(InsufficientCredits, match="Not enough credits"):
        better_answer_deliver(org=tenant.org, user=tenant.member, call_id=call.pk)
    assert (
        not Message.objects.for_org(tenant.org)
        .filter(model_call__request_id__startswith="better-")
        .exists()
    )
