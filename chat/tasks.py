"""Celery tasks of the chat app: each loads what it needs and calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(soft_time_limit=120, time_limit=150)
def shadow_audit_run_task(org_id: int, call_id: int, complexity: str) -> str | None:
    """Re-ask one sampled economy answer of the reference model and judge it.

    Idempotency: (a) one ShadowAudit per model call (a unique constraint), claimed before any
    provider is called, so a retried or duplicated task audits and spends once.
    """
    from chat.audits import shadow_audit_run

    audit = shadow_audit_run(org_id=org_id, call_id=call_id, complexity=complexity)
    return audit.verdict if audit else None
