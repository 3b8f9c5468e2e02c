"""Log events: one record per stage of a request, with its facts as fields, never a prompt
or a secret. Production writes each record as one JSON object (`JsonEventFormatter`);
development writes a readable line with the fields as key=value (`EventFormatter`). Both
carry the request id (accounts.request_context.RequestIdFilter).
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

FIELDS = "event_fields"


def log_event(logger: logging.Logger, event: str, **fields: Any) -> None:
    """Log `event` at INFO with `fields` (ids, labels, numbers: never prompt text)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info(event, extra={FIELDS: fields})


class EventFormatter(logging.Formatter):
    """A plain line, then the event's fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields: dict[str, Any] | None = getattr(record, FIELDS, None)
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


class JsonEventFormatter(JsonFormatter):
    """One JSON object a line, the event's fields at its top level."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        fields = log_data.pop(FIELDS, None) or {}
        log_data.update(fields)
