"""Anthropic's Messages API, streamed: `POST {api_base}/v1/messages` with `stream: true`.

Events: message_start (usage.input_tokens), content_block_start, content_block_delta
(text_delta), content_block_stop, message_delta (usage.output_tokens, cumulative),
message_stop, ping, and error (a failure after the 200, e.g. overloaded_error).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from chat.providers.base import (
    CompletionRequest,
    Delta,
    Finish,
    ProviderError,
    ProviderTarget,
    Timeouts,
    Usage,
)
from chat.providers.clients import first_within, json_event, provider_key, sse_events

# Anthropic's stop reasons in OpenAI's words.
_FINISH_REASONS = {"max_tokens": "length", "end_turn": "stop", "stop_sequence": "stop"}

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024  # the API requires max_tokens; our requests may leave it out

# Anthropic's error types in an `error` event (error responses go by their HTTP status).
_ERROR_KINDS = {
    "rate_limit_error": ("rate_limited", False),
    "overloaded_error": ("server_error", False),
    "api_error": ("server_error", False),
    "timeout_error": ("timeout", False),
    "authentication_error": ("auth", True),
    "permission_error": ("auth", True),
    "invalid_request_error": ("client_error", True),
    "not_found_error": ("client_error", True),
    "request_too_large": ("client_error", True),
}


class AnthropicAdapter:
    def stream(
        self, target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
    ) -> AsyncIterator[Delta | Finish]:
        """Deltas as they arrive, then the stop reason and the usage of message_delta."""
        return first_within(_events(target, request, timeouts), timeouts.first_byte, target)


@dataclass
class _Progress:
    input_tokens: int | None = None
    output_tokens: int | None = None
    stop_reason: str = ""
    stopped: bool = False


async def _events(
    target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
) -> AsyncGenerator[Delta | Finish, None]:
    key = provider_key(target)
    if key is None:
        raise ProviderError(
            f"{target.provider}: needs an API key but has no key_env configured",
            kind="auth",
            permanent=True,
        )
    headers = {"x-api-key": key, "anthropic-version": API_VERSION, "accept": "text/event-stream"}
    url = f"{target.api_base.rstrip('/')}/v1/messages"
    progress = _Progress()
    body = _body(target, request)
    async with sse_events(
        target, url, headers=headers, body=body, timeouts=timeouts, secret=key
    ) as events:
        async for event in events:
            # After message_stop, read on to the end of the body so the connection is reused.
            if not event.data or progress.stopped:
                continue
            text = _apply(target, json_event(target, event.data), progress)
            if text:
                yield Delta(text)
    if not progress.stopped:
        raise ProviderError(f"{target.provider}: stream ended early", kind="bad_response")
    usage = None
    if progress.input_tokens is not None or progress.output_tokens is not None:
        usage = Usage(progress.input_tokens or 0, progress.output_tokens or 0)
    yield Finish(_FINISH_REASONS.get(progress.stop_reason, "stop"), usage)


def _body(target: ProviderTarget, request: CompletionRequest) -> dict[str, Any]:
    system = [m.content for m in request.messages if m.role == "system"]
    body: dict[str, Any] = {
        "model": target.model,
        "messages": [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ],
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "stream": True,
    }
    if system:
        body["system"] = "\n\n".join(system)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def _apply(target: ProviderTarget, event: dict[str, Any], progress: _Progress) -> str:
    """Record what `event` says in `progress`; the text it adds, if any."""
    kind = event.get("type")
    if kind == "content_block_delta":
        delta = _object(event.get("delta"))
        text = delta.get("text") if delta.get("type") == "text_delta" else None
        return text if isinstance(text, str) else ""
    if kind == "message_start":
        usage = _object(_object(event.get("message")).get("usage"))
        # Cached prompt tokens are counted apart from input_tokens; all were processed.
        parts = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        progress.input_tokens = sum(_count(target, usage.get(name)) for name in parts)
    elif kind == "message_delta":
        usage = _object(event.get("usage"))
        if "output_tokens" in usage:
            progress.output_tokens = _count(target, usage["output_tokens"])
        reason = _object(event.get("delta")).get("stop_reason")
        progress.stop_reason = reason if isinstance(reason, str) else progress.stop_reason
    elif kind == "message_stop":
        progress.stopped = True
    elif kind == "error":
        raise anthropic_error(target, event)
    return ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(target: ProviderTarget, value: Any) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProviderError(f"{target.provider}: invalid usage", kind="bad_response")
    return value


def anthropic_error(target: ProviderTarget, event: dict[str, Any]) -> ProviderError:
    """The ProviderError for an `error` event sent after the stream began."""
    error = event.get("error")
    error_type = error.get("type") if isinstance(error, dict) else None
    kind, permanent = _ERROR_KINDS.get(str(error_type), ("server_error", False))
    label = error_type if error_type in _ERROR_KINDS else "unknown error"
    return ProviderError(f"{target.provider}: {label} mid-stream", kind=kind, permanent=permanent)
