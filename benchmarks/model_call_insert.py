"""The chat path's ModelCall insert with and without the end-user column (FinOps attribution).

Runs the statement `model_call_open_sql` builds, as the chat path sends it, 2,000 times per
round inside a rolled-back transaction, alternating before / after / after with an end user
sent, five rounds; prints the median microseconds per insert. Needs the embedded services
(`make services`) and the seeded demo organisation (`make seed`).

    .venv/bin/python benchmarks/model_call_insert.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organization  # noqa: E402
from routing.models import AIModel  # noqa: E402
from usage.services.metering import _OPEN, model_call_open_sql  # noqa: E402

BEFORE = _OPEN.replace("end_user, ", "").replace("%(end_user)s, ", "")
ROUNDS, INSERTS = 5, 2_000


def per_insert_us(statement: str, end_user: str | None) -> float:
    org = Organization.objects.get(slug="demo")
    model = AIModel.objects.get(slug="sim/economy")
    with transaction.atomic(), connection.cursor() as cursor:
        start = time.perf_counter()
        for _ in range(INSERTS):
            params = dict(
                model_call_open_sql(
                    org_id=org.pk,
                    user_id=None,
                    api_key_id=None,
                    conversation_id=None,
                    request_id=uuid.uuid4().hex,
                    attempt=1,
                    fallback_of_id=None,
                    provider_id=model.provider_id,
                    model_id=model.pk,
                    assistant_family="",
                    task_type="chat",
                    route_reasons=["benchmark"],
                    deadline_at=timezone.now() + timedelta(seconds=60),
                    display_multiplier=Decimal(1000),
                    end_user=end_user or "",
                ).params
            )
            if end_user is None:
                params.pop("end_user")
            cursor.execute(statement, params)
        took = (time.perf_counter() - start) / INSERTS * 1e6
        transaction.set_rollback(True)
    return took


def main() -> None:
    cases = {
        "before (no end-user column)": (BEFORE, None),
        "after, no end user sent": (_OPEN, ""),
        "after, end user sent": (_OPEN, "customer-000042"),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, (statement, end_user) in cases.items():
            results[name].append(per_insert_us(statement, end_user))
    for name, values in results.items():
        print(f"{name}: median {statistics.median(values):.1f} µs per insert")


if __name__ == "__main__":
    main()
