import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_success

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

app = Celery("gateway")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

RECONCILE_TASK = "usage.tasks.model_call_reconcile_stuck_task"

# Periodic jobs are declared here, each calling one service through a thin task.
app.conf.beat_schedule = {
    "usage-reconcile-stuck-model-calls": {
        "task": RECONCILE_TASK,
        "schedule": 60.0,
        # A run that waited longer than its interval is superseded by the next one.
        "options": {"expires": 55},
    },
    "billing-renew-credit-periods": {
        "task": "billing.tasks.subscriptions_renew_due_task",
        "schedule": 600.0,
        "options": {"expires": 590},
    },
    "billing-send-budget-alerts": {
        "task": "billing.tasks.budget_alerts_send_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "usage-daily-rollup": {
        "task": "usage.tasks.usage_daily_rollup_recent_task",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "usage-monthly-reports": {
        "task": "usage.tasks.monthly_reports_request_due_task",
        "schedule": crontab(minute=30, hour=0, day_of_month=1),
    },
    "routing-confidence-matrix-rebuild": {
        "task": "routing.tasks.confidence_matrix_rebuild_task",
        "schedule": 30 * 60.0,
        "options": {"expires": 29 * 60},
    },
    "gateway-beat-heartbeat": {
        "task": "gateway.tasks.beat_heartbeat_task",
        "schedule": 30.0,  # settings.BEAT_HEARTBEAT_SECONDS
        "options": {"expires": 25},
    },
}


@task_success.connect
def _reconciler_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    """The readiness view's proof that the reconciler runs: its last successful run."""
    if getattr(sender, "name", None) == RECONCILE_TASK:
        from gateway.health import RECONCILER, heartbeat_record  # needs Django set up

        heartbeat_record(RECONCILER)
