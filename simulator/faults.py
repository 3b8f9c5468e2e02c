"""Which fault, if any, one request suffers, drawn from the model's seeded RNG.

One draw decides the outcome, so a fixed seed and the same number of requests give the same
mix of failures whatever the order in which concurrent requests arrive.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from simulator.config import ModelBehaviour


class FaultKind(StrEnum):
    NONE = "none"
    ERROR = "error"
    HANG = "hang"
    CUT = "cut"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 200
    after: int = 0  # tokens delivered before a cut or a malformed chunk

    @property
    def label(self) -> str:
        """The key this fault is counted under in /_sim/stats (`"429"`, `"cut"`, ...)."""
        return str(self.status) if self.kind is FaultKind.ERROR else self.kind.value


NO_FAULT = Fault(FaultKind.NONE)


def fault_choose(behaviour: ModelBehaviour, rng: random.Random, reply_length: int) -> Fault:
    """The fault for one request: fixed modes first, then error_rate, then the failures mix."""
    if behaviour.hang:
        return Fault(FaultKind.HANG)
    draw = rng.random()
    if draw < behaviour.error_rate:
        return Fault(FaultKind.ERROR, status=rng.choice(behaviour.error_status))
    threshold = behaviour.error_rate
    for kind, weight in behaviour.failures.items():
        threshold += weight
        if draw < threshold:
            return _mixed(kind, rng, reply_length)
    if behaviour.cut_after is not None:
        return Fault(FaultKind.CUT, after=behaviour.cut_after)
    if behaviour.malformed_after is not None:
        return Fault(FaultKind.MALFORMED, after=behaviour.malformed_after)
    return NO_FAULT


def _mixed(kind: str, rng: random.Random, reply_length: int) -> Fault:
    if kind.isdigit():
        return Fault(FaultKind.ERROR, status=int(kind))
    # A drill wants faults at varied points of the reply, never before the first token.
    after = rng.randint(1, max(1, reply_length - 1))
    return Fault(FaultKind(kind), after=after)
