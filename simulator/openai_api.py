"""OpenAI's wire format: chat completions (whole and streamed), embeddings, models, errors.

Shapes follow what the official `openai` SDK parses: every chunk of a stream with
`stream_options.include_usage` carries `"usage": null` until the last, choice-less one.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from simulator.asgi import json_bytes
from simulator.text import (
    EMBEDDING_DIMENSIONS,
    default_length,
    embedding,
    estimate_tokens,
    seed_of,
    text_of,
)
from simulator.types import ApiError, ChatCall, Piece, Reply

MAX_REPLY_TOKENS = 65_536
OWNER = "switchboard-simulator"
_ERROR_TYPES = {429: "requests", 500: "server_error", 502: "server_error", 503: "server_error"}


def error_body(status: int, message: str, code: str | None, param: str | None = None) -> Any:
    kind = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def chat_parse(body: Any) -> ChatCall:
    """A ChatCall from a /v1/chat/completions body; raises ApiError (400) when it is invalid."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    model = _model(body)
    messages = body.get("messages")
    if messages is None:
        raise ApiError(
            400, "Missing required parameter: 'messages'.", "missing_required_parameter", "messages"
        )
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty array.", "invalid_type", "messages")
    if not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "Each message must be an object.", "invalid_type", "messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be a boolean.", "invalid_type", "stream")
    options = body.get("stream_options") or {}
    seed = seed_of(messages)
    # max_tokens caps the reply, as it does a real model's: a reply cut by it says "length".
    natural, cap = default_length(seed), _max_tokens(body)
    return ChatCall(
        model=model,
        seed=seed,
        prompt_tokens=estimate_tokens([text_of(m.get("content")) for m in messages]),
        length=min(natural, cap) if cap else natural,
        stop_reason="length" if cap and cap < natural else "stop",
        stream=stream,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
        prompt=last_user_text(messages),
        max_tokens=cap,
    )


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user message (what the answer answers), or "" without one."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return text_of(users[-1].get("content")) if users else ""


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(
            400, "Missing required parameter: 'model'.", "missing_required_parameter", "model"
        )
    return model


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= MAX_REPLY_TOKENS
        ):
            raise ApiError(
                400,
                f"'{name}' must be an integer between 1 and {MAX_REPLY_TOKENS}.",
                "invalid_value",
                name,
            )
        return value
    return None


def _usage(reply: Reply) -> dict[str, int]:
    completion = len(reply.tokens)
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.prompt_tokens + completion,
    }


def completion_body(reply: Reply) -> Any:
    return {
        "id": reply.id,
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "system_fingerprint": "fp_simulator",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.stop_reason,
            }
        ],
        "usage": _usage(reply),
    }


def stream_pieces(reply: Reply) -> list[Piece]:
    """role chunk, one chunk per token, the finish chunk, the usage chunk if asked, [DONE]."""
    pieces = [Piece(_chunk(reply, {"role": "assistant", "content": ""}), paced=True)]
    pieces += [Piece(_chunk(reply, {"content": t}), tokens=1, paced=True) for t in reply.tokens]
    pieces.append(Piece(_chunk(reply, {}, finish_reason=reply.stop_reason)))
    if reply.include_usage:
        pieces.append(Piece(_sse({**_chunk_base(reply), "choices": [], "usage": _usage(reply)})))
    pieces.append(Piece(b"data: [DONE]\n\n"))
    return pieces


def malformed_piece(reply: Reply) -> Piece:
    """A chunk cut off in the middle of its JSON, as a broken proxy might deliver it."""
    return Piece(
        b'data: {"id":"'
        + reply.id.encode()
        + b'","object":"chat.completion.chunk","choices":[{"delta":{"content":"\n\n'
    )


def _chunk(reply: Reply, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    chunk = {**_chunk_base(reply), "choices": [choice]}
    if reply.include_usage:
        chunk["usage"] = None
    return _sse(chunk)


def _chunk_base(reply: Reply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "object": "chat.completion.chunk",
        "created": reply.created,
        "model": reply.model,
        "system_fingerprint": "fp_simulator",
    }


def _sse(data: Any) -> bytes:
    return b"data: " + json_bytes(data) + b"\n\n"


def models_body(models: list[str]) -> Any:
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "created": 0, "owned_by": OWNER} for m in models],
    }


def embeddings_parse(body: Any) -> tuple[str, list[str], str, int]:
    """(model, inputs, encoding_format, dimensions) from an /v1/embeddings body."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    model = _model(body)
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        raise ApiError(
            400,
            "'input' must be a string or a non-empty array of strings.",
            "invalid_type",
            "input",
        )
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise ApiError(
            400,
            "'encoding_format' must be 'float' or 'base64'.",
            "invalid_value",
            "encoding_format",
        )
    dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS
    if not isinstance(dimensions, int) or not 1 <= dimensions <= EMBEDDING_DIMENSIONS:
        raise ApiError(
            400,
            f"'dimensions' must be between 1 and {EMBEDDING_DIMENSIONS}.",
            "invalid_value",
            "dimensions",
        )
    return model, inputs, encoding, dimensions


def embeddings_body(model: str, inputs: list[str], encoding: str, dimensions: int) -> Any:
    data = []
    for index, text in enumerate(inputs):
        vector = embedding(text, dimensions)
        encoded: Any = vector
        if encoding == "base64":
            # The SDK asks for base64 by default and decodes little-endian float32.
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = estimate_tokens(inputs)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
