"""OpenAI-compatible `/v1`: chat completions and the model list, for any OpenAI SDK.

Served by Starlette, not Django: its clients send an API key and no cookies, so sessions,
CSRF and the rest of Django's request handling do nothing for them, and under ASGI that
handling cost more per request than all of the routing (docs/benchmarks.md). The views stay
thin: parse, call the same pipeline as every chat, write OpenAI's shapes. Every error,
including an unknown path or a wrong method, is in OpenAI's error shape.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from accounts.errors import ApplicationError, error_body
from accounts.models import Organization, User
from chat.cache import cache_header
from chat.db import db_step
from chat.errors import Unauthenticated
from chat.events import ChatEvent, DeltaEvent, DoneEvent, ErrorEvent, UsageEvent, credits_text
from chat.feedback import answer_feedback_give, completion_call_get, rating_parse
from chat.http import (
    END_USER_HEADER,
    bearer_secret,
    cache_allowed,
    end_user_parse,
    request_id_parse,
    sse,
)
from chat.pipeline import chat_prepare, chat_stream
from chat.providers.base import ChatMessage
from chat.snapshots import api_key_snapshot, catalog_snapshot, tenant_snapshot
from chat.types import ChatRequest
from routing.policy import model_availability
from usage.models import END_USER_MAX

MAX_OUTPUT_TOKENS = 32_000
# How a stream that broke off mid-answer ends a non-streaming reply: with an error status
# whose body still carries what was written (and billed).
CUT_STATUS = {"deadline_exceeded": 504, "provider_error": 502}


class V1Message(msgspec.Struct):
    role: Literal["system", "user", "assistant", "developer"]
    content: str | list[dict[str, Any]]  # text, or content parts

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        texts = (p.get("text") for p in self.content if p.get("type") == "text")
        return "\n".join(t for t in texts if isinstance(t, str))

    @property
    def has_images(self) -> bool:
        return isinstance(self.content, list) and any(
            p.get("type") == "image_url" for p in self.content
        )


OutputTokens = Annotated[int, msgspec.Meta(ge=1, le=MAX_OUTPUT_TOKENS)]


class V1ChatInput(msgspec.Struct):
    """OpenAI's request body; fields Switchboard does not use (`n`, `tools`, ...) are ignored."""

    model: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    messages: Annotated[list[V1Message], msgspec.Meta(min_length=1)]
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: OutputTokens | None = None
    max_completion_tokens: OutputTokens | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    user: Annotated[str, msgspec.Meta(max_length=END_USER_MAX)] | None = None


class V1FeedbackInput(msgspec.Struct):
    completion_id: str
    rating: str


def v1_parse(body: bytes) -> V1ChatInput:
    """The validated body, or a 400 naming the field (msgspec: a tenth of the cost of a DRF
    serializer, which was a twelfth of what a chat costs this process)."""
    try:
        raw = msgspec.json.decode(body or b"{}")
    except msgspec.DecodeError as error:
        raise ApplicationError(f"Body is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise ApplicationError("The body must be a JSON object.", {"param": None})
    for name in ("model", "messages"):  # the first missing field is the one named
        if name not in raw:
            raise ApplicationError(f"{name}: This field is required.", {"param": name})
    try:
        data = msgspec.convert(raw, type=V1ChatInput)
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `$.")
        param = re.sub(r"\[(\d+)\]", r".\1", where.rstrip("`")) or None
        text = f"{param}: {message}" if param else message
        raise ApplicationError(text, {"param": param}) from None
    if not any(m.role == "user" for m in data.messages):
        raise ApplicationError("messages: there is no user message", {"param": "messages"})
    return data


async def _caller(request: Request) -> tuple[Organization, User, int]:
    secret = bearer_secret(request.headers.get("authorization", ""))
    if secret is None:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    key = await api_key_snapshot(secret=secret)
    if key is None:
        raise Unauthenticated("Invalid or revoked API key.")
    return key.organization, key.user, key.pk


async def chat_completions(request: Request) -> Response:
    """OpenAI's chat completions; `model: "auto"` lets Switchboard route."""
    org, user, api_key_id = await _caller(request)
    data = v1_parse(await request.body())
    request_id, request_id_given = request_id_parse(request.headers.get("idempotency-key"))
    chat = ChatRequest(
        org=org,
        user=user,
        api_key_id=api_key_id,
        messages=tuple(
            ChatMessage("system" if m.role == "developer" else m.role, m.text)
            for m in data.messages
        ),
        request_id=request_id,
        request_id_given=request_id_given,
        model=None if data.model == "auto" else data.model,
        max_tokens=data.max_completion_tokens or data.max_tokens,
        temperature=data.temperature,
        has_images=any(m.has_images for m in data.messages),
        streamed=data.stream,
        product_chat=False,
        end_user=end_user_parse(field=data.user, header=request.headers.get(END_USER_HEADER)),
        cache=cache_allowed(request.headers.get("cache-control")),
    )
    prepared = await chat_prepare(chat)
    reply = _Reply(f"chatcmpl-{request_id}", prepared.decision.model or data.model)
    events = chat_stream(prepared)
    if not data.stream:
        whole = await reply.collected(events)
        whole.headers.update(cache_header(prepared.cache))
        return whole
    include_usage = bool((data.stream_options or {}).get("include_usage"))
    headers = {"Cache-Control": "no-cache", "X-Request-Id": request_id}
    headers |= cache_header(prepared.cache)
    body = reply.chunks(events, include_usage=include_usage)
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


class _Reply:
    """One completion in OpenAI's shapes: chunks while streaming, or the whole object."""

    def __init__(self, completion_id: str, model: str) -> None:
        self.id, self.model, self.created = completion_id, model, int(time.time())
        self.usage: dict[str, Any] | None = None

    def _chunk(self, **fields: Any) -> dict[str, Any]:
        head = {"id": self.id, "object": "chat.completion.chunk", "created": self.created}
        return head | {"model": self.model, **fields}

    def _usage(self, event: UsageEvent) -> dict[str, Any]:
        return {
            "prompt_tokens": event.input_tokens,
            "completion_tokens": event.output_tokens,
            "total_tokens": event.input_tokens + event.output_tokens,
            "credits": credits_text(event.credits),
        }

    async def chunks(
        self, events: AsyncIterator[ChatEvent], *, include_usage: bool
    ) -> AsyncIterator[str]:
        started = False
        async for event in events:
            if isinstance(event, DeltaEvent):
                delta = {"content": event.text} | ({} if started else {"role": "assistant"})
                started = True
                choice = {"index": 0, "delta": delta, "finish_reason": None}
                yield sse(self._chunk(choices=[choice]))
            elif isinstance(event, UsageEvent):
                self.usage = self._usage(event)
            elif isinstance(event, DoneEvent):
                self.model = event.model
                choice = {"index": 0, "delta": {}, "finish_reason": event.finish_reason}
                yield sse(self._chunk(choices=[choice]))
                if include_usage and self.usage:
                    yield sse(self._chunk(choices=[], usage=self.usage))
                yield sse("[DONE]")
            elif isinstance(event, ErrorEvent):
                yield sse(error_body(event.message, error_type="api_error", code=event.code))

    async def collected(self, events: AsyncIterator[ChatEvent]) -> JSONResponse:
        text: list[str] = []
        finish, error = "stop", None
        async for event in events:
            if isinstance(event, DeltaEvent):
                text.append(event.text)
            elif isinstance(event, UsageEvent):
                self.usage = self._usage(event)
            elif isinstance(event, DoneEvent):
                finish, self.model = event.finish_reason, event.model
            elif isinstance(event, ErrorEvent):
                error = event
        if error is not None:
            body = error_body(error.message, error_type="api_error", code=error.code)
            if error.partial:  # what was written before the cut, as billed
                body["error"]["partial"] = {"content": "".join(text), "usage": self.usage}
            return JSONResponse(body, status_code=CUT_STATUS.get(error.code, 502))
        message = {"role": "assistant", "content": "".join(text)}
        return JSONResponse(
            {
                "id": self.id,
                "object": "chat.completion",
                "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self.usage,
            }
        )


async def feedback(request: Request) -> Response:
    """A thumbs up or down on one of the key's organisation's completions, by its id."""
    org, user, _ = await _caller(request)
    try:
        data = msgspec.json.decode(await request.body(), type=V1FeedbackInput)
    except msgspec.ValidationError as error:
        raise ApplicationError(f"body: {error}", {"param": None}) from None
    except msgspec.DecodeError:
        raise ApplicationError("body: not valid JSON", {"param": None}) from None
    helpful = rating_parse(data.rating)
    call = await db_step(completion_call_get)(org=org, completion_id=data.completion_id)
    await db_step(answer_feedback_give)(org=org, user=user, call=call, helpful=helpful)
    body = {"object": "feedback", "completion_id": data.completion_id, "rating": data.rating}
    return JSONResponse(body)


async def models(request: Request) -> Response:
    """The models the key's plan can use, plus `auto`, in OpenAI's list shape."""
    org, user, _ = await _caller(request)
    entitlement = (await tenant_snapshot(org=org, user=user)).entitlement
    catalog = await db_step(catalog_snapshot)()
    created = int(time.time())
    data = [{"id": "auto", "object": "model", "created": created, "owned_by": "switchboard"}]
    data += [
        {"id": model.slug, "object": "model", "created": created, "owned_by": model.provider}
        for model, reason in model_availability(catalog=catalog, entitlement=entitlement)
        if reason is None
    ]
    return JSONResponse({"object": "list", "data": data})


_HTTP_TYPES = {401: "authentication_error", 404: "not_found_error"}


async def _application_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApplicationError)  # noqa: S101 - registered for this class only
    body = error_body(error.message, error_type=error.error_type, code=error.code, **error.extra)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such path, wrong method) in OpenAI's shape."""
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this class only
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
        code = "method_not_allowed"
    else:
        message, code = f"No such endpoint: {request.url.path}", "not_found"
    error_type = _HTTP_TYPES.get(error.status_code, "invalid_request_error")
    body = error_body(message, error_type=error_type, code=code)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


async def _server_error(request: Request, error: Exception) -> Response:
    body = error_body("Something went wrong on our side.", error_type="api_error", code="internal")
    return JSONResponse(body, status_code=500)


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/feedback", feedback, methods=["POST"]),
    ],
    exception_handlers={
        ApplicationError: _application_error,
        HTTPException: _http_error,
        Exception: _server_error,
    },
)
