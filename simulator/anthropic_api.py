"""Anthropic's Messages API wire format: whole replies, the SSE event sequence, and errors.

`max_tokens` is mandatory here, as in Anthropic's API, and acts as a cap: the reply is the
prompt-derived length unless that is longer, in which case it stops with `max_tokens`.
"""

from __future__ import annotations

from typing import Any

from simulator.asgi import json_bytes
from simulator.openai_api import MAX_REPLY_TOKENS, last_user_text
from simulator.text import default_length, estimate_tokens, seed_of, text_of
from simulator.types import ApiError, ChatCall, Piece, Reply

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str, code: str | None, param: str | None = None) -> Any:
    kind = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def messages_parse(body: Any) -> ChatCall:
    """A ChatCall from a /v1/messages body; raises ApiError (400) when it is invalid."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise ApiError(400, "max_tokens: Field required and must be an integer")
    if not 1 <= max_tokens <= MAX_REPLY_TOKENS:
        raise ApiError(400, f"max_tokens: must be between 1 and {MAX_REPLY_TOKENS}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages: Field required and must be a non-empty list")
    if not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "messages: each message must be an object")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "stream: Input should be a valid boolean")
    system = body.get("system")
    seed = seed_of([system, messages])
    natural = default_length(seed)
    texts = [text_of(system)] + [text_of(m.get("content")) for m in messages]
    return ChatCall(
        model=model,
        seed=seed,
        prompt_tokens=estimate_tokens(texts),
        length=min(natural, max_tokens),
        stop_reason="max_tokens" if max_tokens < natural else "end_turn",
        stream=stream,
        include_usage=False,
        prompt=last_user_text(messages),
        max_tokens=max_tokens,
    )


def completion_body(reply: Reply) -> Any:
    return {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage(reply.prompt_tokens, len(reply.tokens)),
    }


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def stream_pieces(reply: Reply) -> list[Piece]:
    """message_start, content_block_start, ping, one delta per token, then the closing events."""
    message = {**completion_body(reply), "content": [], "stop_reason": None}
    message["usage"] = _usage(reply.prompt_tokens, 1)
    pieces = [
        _event("message_start", {"message": message}),
        _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        _event("ping", {}),
    ]
    for token in reply.tokens:
        delta = {"index": 0, "delta": {"type": "text_delta", "text": token}}
        pieces.append(_event("content_block_delta", delta, tokens=1))
    pieces += [
        _event("content_block_stop", {"index": 0}),
        _event(
            "message_delta",
            {
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": len(reply.tokens)},
            },
        ),
        _event("message_stop", {}),
    ]
    return pieces


def malformed_piece(reply: Reply) -> Piece:
    """A delta event whose JSON is cut off mid-object."""
    return Piece(
        b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"ty\n\n'
    )


def _event(name: str, data: dict[str, Any], tokens: int = 0) -> Piece:
    payload = json_bytes({"type": name, **data})
    return Piece(b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n", tokens, tokens > 0)
