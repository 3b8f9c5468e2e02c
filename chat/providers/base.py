"""The one small interface every provider adapter implements.

An adapter turns a `CompletionRequest` into an async stream of `Delta`s ending with one
`Finish` (why the answer ended, and the usage the provider reported), and raises
`ProviderError` for anything that went wrong. Retries, fallback and the circuit breaker
live above adapters, in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProviderTarget:
    """Where and how to call one model."""

    provider: str  # ModelProvider.slug
    kind: str  # openai_compatible | anthropic | simulator
    api_base: str
    key_env: str  # name of the environment variable holding the key; "" for none
    model: str  # AIModel.slug, sent to the provider as the model name


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class CompletionRequest:
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Finish:
    """The last item of a stream that completed."""

    reason: str  # "stop", or "length" when max_tokens cut the answer (OpenAI's names)
    usage: Usage | None  # None when the provider reported no counts


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    first_byte: float = 30.0  # from sending the request to the first token
    between_chunks: float = 30.0


class ProviderError(Exception):
    """A failed provider call. `kind` is one of: timeout, rate_limited, server_error,
    connection, bad_response, client_error, auth. `permanent` errors are not retried on the
    same provider (bad request, auth); the rest may be retried or fall back.

    The message is safe to log and show: it never contains the key or the prompt.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        permanent: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after


class Adapter(Protocol):
    def stream(
        self, target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
    ) -> AsyncIterator[Delta | Finish]: ...
