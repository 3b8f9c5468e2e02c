import os
from typing import Any

from celery import Celery
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
