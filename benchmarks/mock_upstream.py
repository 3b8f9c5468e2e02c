"""A minimal OpenAI-compatible upstream for `make bench-peer`: raw ASGI, zero latency.

Every chat completion answers 20 content chunks and a usage chunk when streaming, or the
same text as one JSON object when not; `/v1/models` lists one model. Nothing is parsed
beyond what the answer needs, so it is never the bottleneck of a proxy benchmark.

Run: `uvicorn benchmarks.mock_upstream:app --loop uvloop --http httptools --port 8290`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

CHUNKS = 20
WORD = "token "
CREATED = 1_700_000_000
PROMPT_TOKENS = 24


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _usage() -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": CHUNKS,
        "total_tokens": PROMPT_TOKENS + CHUNKS,
    }


@cache
def _stream_body(model: str) -> bytes:
    parts = [_chunk(model, {"role": "assistant", "content": ""})]
    parts += [_chunk(model, {"content": WORD}) for _ in range(CHUNKS)]
    parts.append(_chunk(model, {}, "stop"))
    usage = {"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": CREATED}
    usage |= {"model": model, "choices": [], "usage": _usage()}
    parts.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


@cache
def _json_body(model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": WORD * CHUNKS},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(),
        }
    ).encode()


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _send(send: Any, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path.endswith("/models"):
        models = {"object": "list", "data": [{"id": "mock", "object": "model", "created": 0}]}
        await _send(send, 200, b"application/json", json.dumps(models).encode())
        return
    if not path.endswith("/chat/completions"):
        await _send(send, 404, b"application/json", b'{"error": {"message": "not found"}}')
        return
    request = json.loads(await _read_body(receive) or b"{}")
    model = str(request.get("model", "mock"))
    if request.get("stream"):
        await _send(send, 200, b"text/event-stream", _stream_body(model))
    else:
        await _send(send, 200, b"application/json", _json_body(model))
