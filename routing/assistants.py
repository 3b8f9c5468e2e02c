"""Which assistant family answers: the user's pick when the plan allows it, else by task type."""

from __future__ import annotations

from collections.abc import Sequence

from billing.types import Entitlement
from routing.errors import InvalidRequest, NotInPlan
from routing.policy import mode_checked, rule_matches
from routing.types import (
    AssistantChoice,
    Catalog,
    PrecheckInputs,
    PrecheckOutcome,
    RouteRequest,
    RuleInfo,
)

FALLBACK_FAMILY = "generalist"


def assistant_pick(
    *, task_type: str, requested: str | None, catalog: Catalog, entitlement: Entitlement
) -> AssistantChoice:
    if requested:
        chosen = catalog.assistant(requested)
        if chosen is None:
            known = ", ".join(sorted(a.family for a in catalog.assistants))
            raise InvalidRequest(
                f"assistant: unknown assistant '{requested}'; choose one of {known}",
                {"param": "assistant"},
            )
        if requested not in entitlement.families:
            raise NotInPlan(
                f"The {chosen.name} assistant is not in the {entitlement.plan_name} plan.",
                {"param": "assistant"},
            )
        return AssistantChoice(chosen.family, chosen.name, "picked by you")

    allowed = [a for a in catalog.assistants if a.family in entitlement.families]
    natural = next((a for a in catalog.assistants if task_type in a.default_task_types), None)
    if natural is not None and natural.family in entitlement.families:
        return AssistantChoice(natural.family, natural.name, f"{task_type} → {natural.name}")
    fallback = next((a for a in allowed if a.family == FALLBACK_FAMILY), None)
    fallback = fallback or (allowed[0] if allowed else None)
    if fallback is None:
        raise NotInPlan(f"The {entitlement.plan_name} plan includes no assistant.")
    if natural is None:
        return AssistantChoice(fallback.family, fallback.name, f"no assistant for {task_type}")
    why = f"{natural.name} is not in plan {entitlement.plan_name}; using {fallback.name}"
    return AssistantChoice(fallback.family, fallback.name, why)


def assistant_choose(*, outcome: PrecheckOutcome, inputs: PrecheckInputs) -> AssistantChoice:
    """The family that answers: the caller's pick, a custom-mode rule's, or the task's own."""
    mode = mode_checked(inputs.mode, inputs.entitlement)
    rule = None if inputs.assistant else _family_rule(inputs.rules, mode, outcome)
    return assistant_pick(
        task_type=outcome.task_type,
        requested=inputs.assistant or (rule.target_family if rule else None),
        catalog=inputs.catalog,
        entitlement=inputs.entitlement,
    )


def _family_rule(rules: Sequence[RuleInfo], mode: str, outcome: PrecheckOutcome) -> RuleInfo | None:
    """In custom mode, the first matching rule that moves the request to another family."""
    if mode != "custom":
        return None
    probe = RouteRequest(
        task_type=outcome.task_type,
        complexity=outcome.complexity,
        assistant="",
        input_tokens=outcome.input_tokens,
        needs_images=outcome.needs_images,
        language=outcome.language,
        mode=mode,
    )
    for rule in sorted(rules, key=lambda r: (r.organization_id is None, r.order, r.id)):
        if rule_matches(rule, probe):
            return rule if rule.target_family else None
    return None
