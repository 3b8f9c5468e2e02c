"""OpenAPI descriptions of the chat endpoints, which DRF's schema generator cannot see (they
are not DRF views). drf-spectacular adds them through `chat_paths_add`, a postprocessing hook."""

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_ERRORS = {
    str(status): {"description": why, "content": {"application/json": {"schema": _ERROR}}}
    for status, why in [
        (400, "Invalid input; `error.param` names the field"),
        (401, "Missing, unknown or revoked API key"),
        (402, "Not enough credits, or no active plan"),
        (403, "Blocked by the shield (with `categories`) or not in the plan"),
        (409, "This Idempotency-Key was already used"),
        (429, "Over a rate or concurrency limit; see Retry-After"),
    ]
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 64},
    "description": "Request id; a request is processed and billed at most once per key.",
}
_SECURITY: list[dict[str, list[str]]] = [{"ApiKeyAuth": []}]

PATHS = {
    "/api/ai/chat": {
        "post": {
            "operationId": "ai_chat",
            "summary": "Route and answer one message",
            "description": (
                "Server-sent events `precheck`, `route`, `delta`, `usage`, then `done` or "
                "`error` (with `partial: true` when an answer was cut off and billed for "
                "what was delivered). With `stream: false`, one JSON object with the same parts."
            ),
            "tags": ["ai"],
            "security": [*_SECURITY, {"cookieAuth": []}],
            "parameters": [_IDEMPOTENCY],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": {"type": "string"},
                                "conversation_id": {"type": "integer", "nullable": True},
                                "assistant": {"type": "string"},
                                "mode": {
                                    "type": "string",
                                    "enum": ["auto", "cost", "speed", "quality", "custom"],
                                },
                                "model": {"type": "string"},
                                "max_tokens": {"type": "integer", "minimum": 1},
                                "has_images": {"type": "boolean"},
                                "stream": {"type": "boolean", "default": True},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The event stream, or the collected answer",
                    "content": {"text/event-stream": {}, "application/json": {}},
                },
                **_ERRORS,
            },
        }
    },
    "/v1/chat/completions": {
        "post": {
            "operationId": "v1_chat_completions",
            "summary": "OpenAI-compatible chat completions",
            "description": (
                "OpenAI's request and response shapes, streaming (with `stream_options."
                "include_usage`) or not. `model: auto` lets Switchboard route; a model id is "
                "honoured when the plan allows it. Usage carries `credits` as well."
            ),
            "tags": ["openai-compatible"],
            "security": _SECURITY,
            "parameters": [_IDEMPOTENCY],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["model", "messages"],
                            "properties": {
                                "model": {"type": "string", "example": "auto"},
                                "messages": {"type": "array", "items": {"type": "object"}},
                                "stream": {"type": "boolean"},
                                "stream_options": {"type": "object"},
                                "max_tokens": {"type": "integer"},
                                "max_completion_tokens": {"type": "integer"},
                                "temperature": {"type": "number"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "A chat.completion, or chat.completion.chunk events",
                    "content": {"application/json": {}, "text/event-stream": {}},
                },
                **_ERRORS,
            },
        }
    },
    "/v1/models": {
        "get": {
            "operationId": "v1_models",
            "summary": "Models the key's plan can use, plus `auto`",
            "tags": ["openai-compatible"],
            "security": _SECURITY,
            "responses": {"200": {"description": "OpenAI's model list"}, "401": _ERRORS["401"]},
        }
    },
}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "string"},
                "param": {"type": "string", "nullable": True},
            },
        }
    },
}


def chat_paths_add(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the chat paths and the error schema they use."""
    result.setdefault("paths", {}).update(PATHS)
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    return result
