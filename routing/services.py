"""Writes to the routing catalog. Admin actions and staff pages call these, never `.save()`."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.db import transaction
from psycopg.types.json import Jsonb

from accounts.models import Organization, User
from accounts.services import audit_log_record
from accounts.sql import Sql, sql_run
from routing.cache.entries import cache_invalidate_model
from routing.models import AIModel
from routing.types import RoutePreview


def aimodel_set_active(*, model: AIModel, active: bool, actor: User, reason: str = "") -> AIModel:
    """Switch a model on or off, audited as `model.activate` / `model.deactivate` (with the
    staff member's reason, when given).

    The row is locked while it changes; setting the value it already has writes nothing.
    Switching it off also drops every organisation's cached answers written by it.
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
                after={"active": active, "reason": reason} if reason else {"active": active},
            )
    if not active:
        cache_invalidate_model(model=locked)
    return locked


PRICE_FIELDS = ("input_cost_per_mtok", "output_cost_per_mtok", "currency")


def aimodel_prices_changed(*, model: AIModel, changed: Sequence[str]) -> int:
    """After an edit of `model`: if its prices changed, its cached answers (priced at the old
    ones) are dropped; returns how many."""
    if not set(changed) & set(PRICE_FIELDS):
        return 0
    return cache_invalidate_model(model=model)


_PROMPT_CHECK_INSERT = """
INSERT INTO routing_promptcheck (
    organization_id, user_id, conversation_id, prompt_sha256, task_type, complexity, language,
    risk_level, risk_categories, blocked, recommended_assistant, cache_outcome, cache_guard,
    decision, at
) VALUES (
    %(org_id)s, %(user_id)s, %(conversation_id)s, %(prompt_sha256)s, %(task_type)s,
    %(complexity)s, %(language)s, %(risk_level)s, %(risk_categories)s, %(blocked)s,
    %(recommended_assistant)s, %(cache_outcome)s, %(cache_guard)s, %(decision)s, now()
) RETURNING id
"""


def prompt_check_sql(
    *,
    org_id: int,
    user_id: int | None,
    preview: RoutePreview,
    conversation_id: int | None,
    request_id: str = "",
    cache_outcome: str = "",
    cache_guard: str = "",
) -> Sql:
    """The PromptCheck row of one precheck: its labels, risk, decision and cache lookup
    (its result and the guard that refused a candidate), never the prompt. The request id is
    kept in `decision`, where the staff inspector finds the request's check."""
    outcome, decision = preview.outcome, preview.decision
    recorded = decision.as_dict(include_raw=True) if decision else {}
    return Sql(
        _PROMPT_CHECK_INSERT,
        {
            "org_id": org_id,
            "user_id": user_id,
            "conversation_id": conversation_id,
            "prompt_sha256": outcome.prompt_sha256,
            "task_type": outcome.task_type,
            "complexity": outcome.complexity,
            "language": outcome.language,
            "risk_level": outcome.risk_level,
            "risk_categories": list(outcome.risk_categories),
            "blocked": outcome.blocked,
            "recommended_assistant": preview.assistant.family if preview.assistant else "",
            "cache_outcome": cache_outcome,
            "cache_guard": cache_guard,
            "decision": Jsonb(
                {**recorded, "rule_ids": list(outcome.rule_ids), "request_id": request_id}
            ),
        },
    )


def prompt_check_record(
    *,
    org: Organization,
    user: User | None,
    preview: RoutePreview,
    conversation_id: int | None = None,
) -> int:
    """Store one precheck's PromptCheck row; returns its id. Never the prompt text."""
    sql = prompt_check_sql(
        org_id=org.pk,
        user_id=user.pk if user else None,
        preview=preview,
        conversation_id=conversation_id,
    )
    row = sql_run(sql)
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return int(row[0])
