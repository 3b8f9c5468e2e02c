"""Per-model counters served at /_sim/stats.

Every request lands in exactly one outcome once it ends: succeeded, failed (by kind) or
cancelled by the client, so `requests` equals their sum when nothing is in flight. The server
runs one event loop, so plain integers need no lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelStats:
    requests: int = 0
    succeeded: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    streams_cancelled_by_client: int = 0
    requests_cancelled_by_client: int = 0
    tokens_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "succeeded": self.succeeded,
            "failed": dict(sorted(self.failed.items())),
            "streams_cancelled_by_client": self.streams_cancelled_by_client,
            "requests_cancelled_by_client": self.requests_cancelled_by_client,
            "tokens_sent": self.tokens_sent,
        }


@dataclass
class Stats:
    models: dict[str, ModelStats] = field(default_factory=dict)

    def for_model(self, model: str) -> ModelStats:
        return self.models.setdefault(model, ModelStats())

    def as_dict(self) -> dict[str, Any]:
        return {"models": {name: stats.as_dict() for name, stats in sorted(self.models.items())}}
