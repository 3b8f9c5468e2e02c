"""Writes to the routing catalog. Admin actions and staff pages call these, never `.save()`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import Organization, User
from accounts.services import audit_log_record
from routing.models import AIModel, PromptCheck
from routing.types import PrecheckOutcome


def aimodel_set_active(*, model: AIModel, active: bool, actor: User) -> AIModel:
    """Switch a model on or off, audited as `model.activate` / `model.deactivate`.

    The row is locked while it changes; setting the value it already has writes nothing.
    """
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff can activate or deactivate models.")
    with transaction.atomic():
        locked = AIModel.objects.select_for_update().get(pk=model.pk)
        if locked.active != active:
            before = {"active": locked.active}
            locked.active = active
            locked.save(update_fields=["active"])
            audit_log_record(
                actor=actor,
                org=None,
                action="model.activate" if active else "model.deactivate",
                target=f"AIModel {locked.slug}",
                before=before,
                after={"active": active},
            )
    return locked


def prompt_check_record(
    *,
    org: Organization,
    user: User | None,
    outcome: PrecheckOutcome,
    conversation_id: int | None = None,
) -> PromptCheck:
    """Store the precheck's labels and decision; never the prompt text."""
    decision = outcome.decision.as_dict(include_raw=True) if outcome.decision else {}
    return PromptCheck.objects.create(
        organization=org,
        user=user,
        conversation_id=conversation_id,
        prompt_sha256=outcome.prompt_sha256,
        task_type=outcome.task_type,
        complexity=outcome.complexity,
        language=outcome.language,
        risk_level=outcome.risk_level,
        risk_categories=list(outcome.risk_categories),
        blocked=outcome.blocked,
        recommended_assistant=outcome.assistant.family if outcome.assistant else "",
        decision={**decision, "rule_ids": list(outcome.rule_ids)},
    )
