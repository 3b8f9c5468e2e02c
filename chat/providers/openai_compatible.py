"""Any OpenAI-compatible chat completions API: OpenRouter, OpenAI, vLLM, Ollama, our simulator.

The request always streams and asks for usage (`stream_options.include_usage`): the usage
chunk arrives last, after the finish chunk and before `[DONE]`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
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


class OpenAICompatibleAdapter:
    def stream(
        self, target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
    ) -> AsyncIterator[Delta | Finish]:
        """Deltas as they arrive, then why the answer ended and the provider's usage."""
        return first_within(_events(target, request, timeouts), timeouts.first_byte, target)


async def _events(
    target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
) -> AsyncGenerator[Delta | Finish, None]:
    key = provider_key(target)
    headers = {"accept": "text/event-stream"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{target.api_base.rstrip('/')}/chat/completions"
    usage: Usage | None = None
    reason, done = "", False
    body = _body(target, request)
    async with sse_events(
        target, url, headers=headers, body=body, timeouts=timeouts, secret=key
    ) as events:
        async for event in events:
            # After [DONE], read on to the end of the body so the connection can be reused.
            if done or not event.data:
                continue
            if event.data == "[DONE]":
                reason, done = reason or "stop", True
                continue
            chunk = json_event(target, event.data)
            _raise_stream_error(target, chunk)
            usage = _usage(target, chunk.get("usage")) or usage
            text, finish_reason = _choice(chunk)
            reason = finish_reason or reason
            if text:
                yield Delta(text)
    if not reason:
        raise ProviderError(f"{target.provider}: stream ended early", kind="bad_response")
    yield Finish(reason, usage)


def _body(target: ProviderTarget, request: CompletionRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": target.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    # `max_tokens` rather than `max_completion_tokens`: vLLM, Ollama and OpenRouter know it.
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def _choice(chunk: dict[str, Any]) -> tuple[str, str]:
    """(text, finish reason or "") from the first choice; the usage chunk has no choices."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "", ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    reason = choices[0].get("finish_reason")
    text = content if isinstance(content, str) else ""
    return text, (reason if isinstance(reason, str) else "")


def _usage(target: ProviderTarget, data: Any) -> Usage | None:
    if not data:
        return None
    try:
        return Usage(int(data["prompt_tokens"]), int(data["completion_tokens"]))
    except (TypeError, KeyError, ValueError):
        raise ProviderError(f"{target.provider}: invalid usage", kind="bad_response") from None


def _raise_stream_error(target: ProviderTarget, chunk: dict[str, Any]) -> None:
    """OpenRouter and vLLM report a failure after the 200 as a chunk with an `error` object."""
    error = chunk.get("error")
    if not error:
        return
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) else None
    if status == 429:
        raise ProviderError(f"{target.provider}: rate limited mid-stream", kind="rate_limited")
    raise ProviderError(f"{target.provider}: error mid-stream", kind="server_error", status=status)
