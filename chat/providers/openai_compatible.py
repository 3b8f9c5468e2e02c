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
    ProviderError,
    ProviderTarget,
    Timeouts,
    Usage,
)
from chat.providers.clients import first_within, json_event, provider_key, sse_data, sse_lines


class OpenAICompatibleAdapter:
    def stream(
        self, target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
    ) -> AsyncIterator[Delta | Usage]:
        """Deltas as they arrive, then the provider's Usage if it sent one."""
        return first_within(_events(target, request, timeouts), timeouts.first_byte, target)


async def _events(
    target: ProviderTarget, request: CompletionRequest, timeouts: Timeouts
) -> AsyncGenerator[Delta | Usage, None]:
    key = provider_key(target)
    headers = {"accept": "text/event-stream"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{target.api_base.rstrip('/')}/chat/completions"
    usage: Usage | None = None
    finished = done = False
    body = _body(target, request)
    async with sse_lines(
        target, url, headers=headers, body=body, timeouts=timeouts, secret=key
    ) as lines:
        async for line in lines:
            data = sse_data(line)
            # After [DONE], read on to the end of the body so the connection can be reused.
            if data is None or done:
                continue
            if data == "[DONE]":
                finished = done = True
                continue
            chunk = json_event(target, data)
            _raise_stream_error(target, chunk)
            usage = _usage(target, chunk.get("usage")) or usage
            text, stopped = _choice(chunk)
            finished = finished or stopped
            if text:
                yield Delta(text)
    if not finished:
        raise ProviderError(f"{target.provider}: stream ended early", kind="bad_response")
    if usage is not None:
        yield usage


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


def _choice(chunk: dict[str, Any]) -> tuple[str, bool]:
    """(text, finished) from the first choice; the usage chunk has no choices."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "", False
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return (content if isinstance(content, str) else ""), bool(choices[0].get("finish_reason"))


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
