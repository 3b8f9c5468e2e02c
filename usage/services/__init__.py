"""Usage writes: metering of model calls (`metering`) and abuse signals (`abuse`).

Callers import from `usage.services`; the names below are the package's public surface.
"""

from usage.services.abuse import (
    abuse_flag_clear,
    abuse_record_blocked_prompt,
    abuse_record_high_cost_call,
)
from usage.services.metering import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    PENDING_ERROR,
    RECONCILE_BATCH,
    STUCK_ERROR,
    BilledUsage,
    CallOutcome,
    CallPrices,
    error_redact,
    model_call_bill_sql,
    model_call_fail,
    model_call_fail_delivered_by_id,
    model_call_fail_sql,
    model_call_finish,
    model_call_finish_at,
    model_call_mark_streaming,
    model_call_open_sql,
    model_call_progress_sql,
    model_call_reconcile_stuck,
    model_call_start,
    model_call_streaming_sql,
    model_call_update_progress,
    usage_billed,
)

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "PENDING_ERROR",
    "RECONCILE_BATCH",
    "STUCK_ERROR",
    "BilledUsage",
    "CallOutcome",
    "CallPrices",
    "abuse_flag_clear",
    "abuse_record_blocked_prompt",
    "abuse_record_high_cost_call",
    "error_redact",
    "model_call_bill_sql",
    "model_call_fail",
    "model_call_fail_delivered_by_id",
    "model_call_fail_sql",
    "model_call_finish",
    "model_call_finish_at",
    "model_call_mark_streaming",
    "model_call_open_sql",
    "model_call_progress_sql",
    "model_call_reconcile_stuck",
    "model_call_start",
    "model_call_streaming_sql",
    "model_call_update_progress",
    "usage_billed",
]
