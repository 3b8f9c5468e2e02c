"""Which assistant family answers: the user's pick when the plan allows it, else by task type."""

from __future__ import annotations

from billing.types import Entitlement
from routing.errors import InvalidRequest, NotInPlan
from routing.types import AssistantChoice, Catalog

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
