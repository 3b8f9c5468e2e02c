"""Values passed between the simulator's request parsing, its dialects and its streamer."""

from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """A client error answered in the endpoint's own error shape (OpenAI or Anthropic)."""

    def __init__(
        self, status: int, message: str, code: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param


@dataclass(frozen=True)
class ChatCall:
    """A validated chat request, whichever API it came through."""

    model: str
    seed: int
    prompt_tokens: int
    length: int
    stop_reason: str
    stream: bool
    include_usage: bool
    prompt: str = ""  # the last user message: what a task-shaped answer answers
    max_tokens: int | None = None  # the caller's cap
    text_tokens: tuple[str, ...] = ()  # a task-shaped reply's tokens; empty: filler prose


@dataclass(frozen=True)
class Reply:
    """Everything a dialect needs to render one answer, whole or as a stream."""

    id: str
    model: str
    created: int
    tokens: tuple[str, ...]
    prompt_tokens: int
    stop_reason: str
    include_usage: bool

    @property
    def text(self) -> str:
        return "".join(self.tokens)


@dataclass(frozen=True)
class Piece:
    """One write of a stream; `tokens` counts the reply tokens it carries (0 or 1)."""

    data: bytes
    tokens: int = 0
    # A paced piece waits until the next token is due, so the role chunk leaves with the
    # first token rather than ahead of the simulated time to first token.
    paced: bool = False
