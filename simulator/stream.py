"""Send a prepared stream at the model's pace, stopping the moment the client goes away."""

from __future__ import annotations

import time
from dataclasses import dataclass

from simulator.asgi import Connection
from simulator.config import ModelBehaviour
from simulator.types import Piece


@dataclass(frozen=True)
class Timing:
    first_token_s: float
    seconds_per_token: float

    @classmethod
    def of(cls, behaviour: ModelBehaviour) -> Timing:
        rate = behaviour.tokens_per_second
        return cls(behaviour.first_token_ms / 1000, 1 / rate if rate > 0 else 0.0)

    def token_due(self, index: int) -> float:
        """Seconds after the request when token `index` (0-based) is ready."""
        return self.first_token_s + index * self.seconds_per_token


@dataclass(frozen=True)
class StreamResult:
    completed: bool
    tokens_sent: int


def pieces_cut(pieces: list[Piece], after: int) -> list[Piece]:
    """The pieces up to and including the `after`-th token (a dropped connection follows)."""
    return _split(pieces, after)[0]


def pieces_insert(pieces: list[Piece], after: int, extra: Piece) -> list[Piece]:
    """`extra` placed right after the `after`-th token, or after the last one."""
    head, tail = _split(pieces, after)
    return [*head, extra, *tail]


def _split(pieces: list[Piece], after: int) -> tuple[list[Piece], list[Piece]]:
    sent = 0
    for index, piece in enumerate(pieces):
        if piece.tokens and sent >= after:
            return pieces[:index], pieces[index:]
        sent += piece.tokens
    last_token = max((i for i, p in enumerate(pieces) if p.tokens), default=len(pieces) - 1)
    return pieces[: last_token + 1], pieces[last_token + 1 :]


async def stream_send(conn: Connection, pieces: list[Piece], timing: Timing) -> StreamResult:
    """Write `pieces` in order, paced pieces on their token's schedule (absolute, no drift)."""
    start = time.monotonic()
    sent = 0
    for piece in pieces:
        delay = start + timing.token_due(sent) - time.monotonic() if piece.paced else 0.0
        if not await conn.pause(delay):
            return StreamResult(completed=False, tokens_sent=sent)
        await conn.write(piece.data)
        sent += piece.tokens
    return StreamResult(completed=True, tokens_sent=sent)
