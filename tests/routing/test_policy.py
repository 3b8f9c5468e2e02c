"""The policy engine over a hand-made catalog: modes, exclusions, budget and custom rules."""

from dataclasses import replace
from decimal import Decimal

import pytest

from billing.types import Entitlement
from routing.policy import route_select
from routing.types import Catalog, CellEstimate, RouteRequest, RuleInfo
from tests.routing.builders import BIG, CATALOG, CHEAP, ENTITLEMENT, MID, model


def request(**overrides: object) -> RouteRequest:
    base = {"task_type": "coding", "complexity": "medium", "assistant": "generalist"}
    return RouteRequest(**{**base, "input_tokens": 500, **overrides})


def decide(req: RouteRequest, entitlement: Entitlement = ENTITLEMENT, **kwargs: object):
    return route_select(request=req, catalog=CATALOG, entitlement=entitlement, **kwargs)


def reasons(decision) -> dict[str, str]:
    return {e.model: e.reason for e in decision.exclusions}


@pytest.mark.parametrize("complexity", ["low", "medium", "high"])
def test_auto_without_evidence_takes_the_strongest_model(complexity: str) -> None:
    # cheap's 0.60 and mid's 0.78 priors are more than the margin below big's 0.90.
    decision = decide(request(complexity=complexity))

    assert decision.model == "big"
    assert decision.reason == (
        f"strongest model for coding/{complexity} (the strongest, prior 0.90); "
        "no cheaper model is shown within 5% of it"
    )


def test_auto_takes_a_cheaper_model_whose_prior_is_within_the_margin() -> None:
    close = replace(MID, quality=dict.fromkeys(("coding", "math", "chat"), 0.86))
    catalog = Catalog(models=(BIG, CHEAP, close), assistants=CATALOG.assistants)

    decision = route_select(request=request(), catalog=catalog, entitlement=ENTITLEMENT)

    assert decision.model == "mid"
    assert decision.reason == (
        "cheapest model within 5% of big on coding/medium "
        "(prior 0.86 against big's 0.90, no audits yet)"
    )


def test_auto_takes_the_strongest_of_what_the_plan_allows() -> None:
    weak = Catalog(models=(CHEAP, MID), assistants=CATALOG.assistants)

    decision = route_select(
        request=request(complexity="high"), catalog=weak, entitlement=ENTITLEMENT
    )

    assert decision.model == "mid"
    assert decision.reason.startswith("strongest model for coding/high")


@pytest.mark.parametrize(
    ("mode", "order"),
    [
        ("cost", ("cheap", "mid", "big")),
        ("quality", ("big", "mid", "cheap")),
        ("speed", ("cheap", "mid", "big")),
    ],
)
def test_modes_rank_candidates(mode: str, order: tuple[str, ...]) -> None:
    decision = decide(request(mode=mode))

    assert (decision.model, *decision.fallbacks) == order


def test_speed_mode_prefers_fast_tier_over_price() -> None:
    fast_but_dear = model("fast-dear", "5", "20", 0.9, latency_tier="fast")
    catalog = Catalog(models=(MID, fast_but_dear), assistants=CATALOG.assistants)

    decision = route_select(request=request(mode="speed"), catalog=catalog, entitlement=ENTITLEMENT)

    assert decision.model == "fast-dear"


def test_models_outside_the_plan_are_excluded_with_reason() -> None:
    free = replace(ENTITLEMENT, plan_name="Free", models=frozenset({"cheap"}))

    decision = decide(request(), free)

    assert decision.model == "cheap"
    assert reasons(decision) == {"mid": "not in plan Free", "big": "not in plan Free"}


def test_context_too_small_is_excluded_with_sizes() -> None:
    decision = decide(request(input_tokens=200_000))

    assert decision.model == "big"
    assert reasons(decision)["cheap"].startswith("context 128k < needed 20")


def test_image_requests_need_an_image_model() -> None:
    decision = decide(request(needs_images=True))

    assert decision.model == "big"
    assert reasons(decision)["mid"] == "no image input"


def test_down_provider_is_excluded_and_not_a_fallback() -> None:
    decision = decide(request(mode="cost"), down_providers=frozenset({"prov-cheap"}))

    assert decision.model == "mid"
    assert "cheap" not in decision.fallbacks
    assert reasons(decision)["cheap"] == "provider down"


def test_escalated_pair_is_skipped_in_auto_mode() -> None:
    catalog = replace(CATALOG, escalations=frozenset({("mid", "coding")}))

    decision = route_select(request=request(), catalog=catalog, entitlement=ENTITLEMENT)

    assert decision.model == "big"
    assert reasons(decision)["mid"].startswith("escalated")


def test_estimated_cost_is_decimal_in_raw_and_display_units() -> None:
    decision = decide(request(mode="cost", input_tokens=1000))

    expected_raw = (Decimal("0.10") * 1000 + Decimal("0.40") * decision.output_tokens) / 1_000_000
    assert decision.est_cost_raw == expected_raw
    assert decision.est_credits == expected_raw * 1000
    assert isinstance(decision.est_credits, Decimal)


def test_budget_refusal_when_no_model_is_affordable() -> None:
    broke = replace(ENTITLEMENT, credits_left=Decimal("0.01"))

    decision = decide(request(), broke)

    assert decision.model is None
    assert decision.refusal_code == "insufficient_credits"
    assert "0.01 left" in decision.refusal
    assert all("left" in reason for reason in reasons(decision).values())


def test_budget_excludes_only_models_too_dear_for_remaining_credits() -> None:
    tight = replace(ENTITLEMENT, credits_left=Decimal("1.0"))

    decision = decide(request(mode="quality"), tight)

    assert decision.model != "big"
    assert "credits" in reasons(decision)["big"]


def rule(rule_id: int, order: int, **fields: object) -> RuleInfo:
    base = {"name": f"r{rule_id}", "organization_id": 1, "conditions": {}, "target_model": None}
    return RuleInfo(id=rule_id, order=order, **{**base, "target_family": "", "mode": "", **fields})


def test_custom_mode_first_matching_rule_in_order_wins() -> None:
    rules = [
        rule(1, 20, conditions={"task_type": "coding"}, target_model="big"),
        rule(2, 10, conditions={"task_type": ["coding", "math"]}, target_model="cheap"),
        rule(3, 5, conditions={"task_type": "chat"}, target_model="mid"),
    ]

    decision = decide(request(mode="custom"), rules=rules)

    assert decision.model == "cheap"
    assert decision.reason == "rule #10 'r2' matched"


def test_custom_rule_with_unusable_model_is_skipped_with_reason() -> None:
    free = replace(ENTITLEMENT, plan_name="Free", models=frozenset({"cheap", "mid"}))
    rules = [
        rule(1, 1, conditions={"task_type": "coding"}, target_model="big"),
        rule(2, 2, conditions={"complexity": "medium"}, target_model="mid"),
    ]

    decision = decide(request(mode="custom"), free, rules=rules)

    assert decision.model == "mid"
    assert "rule #1 skipped: not in plan Free" in [e.reason for e in decision.exclusions]


def test_org_rules_come_before_platform_rules() -> None:
    rules = [
        rule(1, 1, organization_id=None, target_model="big"),
        rule(2, 50, target_model="mid"),
    ]

    assert decide(request(mode="custom"), rules=rules).model == "mid"


def test_custom_mode_without_matching_rule_routes_like_auto() -> None:
    rules = [rule(1, 1, conditions={"language": "de"}, target_model="cheap")]

    decision = decide(request(mode="custom"), rules=rules)

    assert decision.model == "big"
    assert decision.reason.startswith("no custom rule matched")


def test_rule_with_mode_changes_the_ranking() -> None:
    rules = [rule(1, 1, conditions={"min_input_tokens": 100}, mode="cost")]

    decision = decide(request(mode="custom"), rules=rules)

    assert decision.model == "cheap"
    assert decision.reason.startswith("rule #1 'r1' matched; cheapest")


def test_unknown_rule_condition_never_matches() -> None:
    rules = [rule(1, 1, conditions={"weather": "sunny"}, target_model="cheap")]

    assert decide(request(mode="custom"), rules=rules).model == "big"


def test_explicit_model_is_honoured_without_fallbacks() -> None:
    decision = decide(request(model="big"))

    assert (decision.model, decision.fallbacks, decision.reason) == (
        "big",
        (),
        "requested by the caller",
    )


def test_explicit_model_outside_the_plan_is_refused_with_the_reason() -> None:
    free = replace(ENTITLEMENT, plan_name="Free", models=frozenset({"cheap"}))

    decision = decide(request(model="big"), free)

    assert decision.model is None
    assert decision.refusal_code == "model_not_allowed"
    assert "not in plan Free" in decision.refusal


def test_unknown_explicit_model_is_refused() -> None:
    assert decide(request(model="nope")).refusal_code == "model_not_found"


def test_models_without_a_configured_key_are_excluded() -> None:
    unkeyed = replace(CHEAP, key_env="CHEAP_KEY", key_configured=False)
    catalog = Catalog(models=(unkeyed, MID), assistants=CATALOG.assistants)

    decision = route_select(request=request(mode="cost"), catalog=catalog, entitlement=ENTITLEMENT)

    assert decision.model == "mid"
    assert reasons(decision)["cheap"] == "no API key configured (CHEAP_KEY is not set)"


def test_auto_mode_stops_choosing_an_escalated_cell_and_cites_its_evidence() -> None:
    poor = CellEstimate(30, 0.3, 0.7, 0.52, 0.83, escalate=True)
    catalog = replace(CATALOG, cells={("mid", "coding", "medium"): poor})

    decision = route_select(request=request(), catalog=catalog, entitlement=ENTITLEMENT)
    other_complexity = route_select(
        request=request(complexity="low"), catalog=catalog, entitlement=ENTITLEMENT
    )

    assert decision.model == "big"
    assert reasons(decision)["mid"] == (
        "escalated: poor shadow-audit record on coding/medium "
        "(30 samples, mean score 0.30, poor 70% (95% CI 52%-83%))"
    )
    assert "mid" not in reasons(other_complexity)  # the cell is per complexity


def test_auto_mode_takes_a_cheaper_model_once_audits_show_it_within_the_margin() -> None:
    # cheap's prior 0.60 is far below big's 0.90; 400 audits with 1% poor (95% CI to 2.6%)
    # show its answers match the reference's, so it is as good here.
    good = CellEstimate(400, 0.95, 0.01, 0.0039, 0.0255)
    catalog = replace(CATALOG, cells={("cheap", "coding", "medium"): good})

    decision = route_select(request=request(), catalog=catalog, entitlement=ENTITLEMENT)

    assert decision.model == "cheap"
    assert decision.reason == (
        "cheapest model within 5% of big on coding/medium (cell cheap×coding/medium: 400 "
        "samples, mean score 0.95, poor 1% (95% CI 0%-3%))"
    )


@pytest.mark.parametrize(
    ("poor_high", "expected"),
    [(0.05, "cheap"), (0.051, "big")],
)
def test_the_relative_bar_is_the_high_end_of_the_poor_rate(poor_high: float, expected: str) -> None:
    cell = CellEstimate(200, 0.9, 0.02, 0.005, poor_high)
    catalog = replace(CATALOG, cells={("cheap", "coding", "medium"): cell})

    assert route_select(request=request(), catalog=catalog, entitlement=ENTITLEMENT).model == (
        expected
    )


def test_poor_evidence_below_the_escalation_threshold_still_lowers_the_estimate() -> None:
    weak = CellEstimate(12, 0.4, 0.5, 0.25, 0.75)  # too few samples to escalate
    catalog = replace(CATALOG, cells={("mid", "coding", "medium"): weak})

    decision = route_select(request=request(), catalog=catalog, entitlement=ENTITLEMENT)

    assert decision.model == "big"
    assert "mid" not in reasons(decision)  # not excluded, only ranked below the bar


@pytest.mark.parametrize(
    ("complexity", "expected"),
    [("low", "cheap"), ("medium", "mid"), ("high", "big")],
)
def test_the_absolute_bar_takes_the_cheapest_model_meeting_it(
    complexity: str, expected: str
) -> None:
    absolute = replace(CATALOG, quality_bar="absolute")

    decision = route_select(
        request=request(complexity=complexity, exploration_draw=0.0),
        catalog=absolute,
        entitlement=ENTITLEMENT,
    )

    assert (decision.model, decision.exploring) == (expected, False)
    assert "cheapest model meeting the quality bar" in decision.reason
