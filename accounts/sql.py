"""Hand-written statements for the few writes every chat makes, runnable on either connection.

The module that owns a table builds its statement as an `Sql` value (never the ORM's, so the
chat path can send several in one round trip). Sync code (tasks, admin actions, tests) runs one
on Django's connection with `sql_run`, inside its own `transaction.atomic()` when it needs one;
the chat path runs them on its async connection (`chat/db.py`). Tenant-owned statements take
the organisation's id and filter on it, as `for_org` does for the ORM.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection


@dataclass(frozen=True)
class Sql:
    text: str  # psycopg's %(name)s placeholders
    params: Mapping[str, Any] = field(default_factory=dict)


def sql_run(sql: Sql) -> tuple[Any, ...] | None:
    """Run `sql` on Django's connection; its first row, if it returns rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql.text, sql.params)
        return cursor.fetchone() if cursor.description else None


def sql_together(first: Sql, then: Sql) -> Sql:
    """`first` and `then` as one statement, so one round trip and one transaction: `first` (a
    write) runs as a WITH clause and `then` gives the rows. Shared parameters must agree."""
    clash = [
        k for k in first.params.keys() & then.params.keys() if first.params[k] != then.params[k]
    ]
    if clash:
        raise ValueError(f"the statements disagree on {', '.join(sorted(clash))}")
    text = f"WITH first_write AS ({first.text.strip()})\n{then.text.strip()}"
    return Sql(text, {**first.params, **then.params})
