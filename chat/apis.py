"""The chat endpoints: `/api/ai/chat` (our events) and OpenAI-compatible `/v1`.

Async Django views rather than DRF APIViews: DRF has no async views, and a chat holds a
provider stream open for seconds. They share DRF's serializers for validation and the one
error shape (`accounts.errors.error_body`).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers

from accounts.errors import ApplicationError, error_body, first_field_error
from accounts.models import ApiKey, Organization, User
from accounts.services import api_key_touch, api_key_touch_due
from billing.selectors import entitlement_get
from chat.db import db_step
from chat.events import (
    ChatEvent,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    PrecheckEvent,
    RouteEvent,
    UsageEvent,
)
from chat.pipeline import ChatRequest, chat_prepare, chat_stream
from chat.providers.base import ChatMessage
from chat.snapshots import api_key_snapshot, catalog_snapshot
from routing.apis import precheck_payload
from routing.policy import MODES, model_availability

REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
CREDIT_PLACES = Decimal("0.0001")


class Unauthenticated(ApplicationError):
    status_code = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class NotFound(ApplicationError):
    status_code = 404
    error_type = "not_found_error"
    code = "not_found"


class CsrfFailed(ApplicationError):
    status_code = 403
    error_type = "permission_error"
    code = "csrf_failed"


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


async def _authenticate(
    request: HttpRequest, *, allow_session: bool
) -> tuple[Organization, User, ApiKey | None]:
    """The tenant and user: a bearer API key, or (browser) the session with a CSRF check."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        key = await api_key_snapshot(secret=header[7:].strip())
        if key is None:
            raise Unauthenticated("Invalid or revoked API key.")
        if api_key_touch_due(key=key):
            await db_step(api_key_touch)(key=key)
        return key.organization, key.user, key
    if not allow_session:  # /v1 is served without the session middleware (gateway.asgi)
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    return await db_step(_session_user)(request)


def _session_user(request: HttpRequest) -> tuple[Organization, User, None]:
    user = request.user
    if user.is_authenticated and getattr(request, "org", None) is not None:
        check = _CsrfCheck(lambda r: HttpResponse())
        check.process_request(request)
        if reason := check.process_view(request, None, (), {}):
            raise CsrfFailed(f"CSRF check failed: {reason}")
        return request.org, user, None  # type: ignore[attr-defined]
    raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")


def _error_response(error: ApplicationError) -> JsonResponse:
    body = error_body(error.message, error_type=error.error_type, code=error.code, **error.extra)
    return JsonResponse(body, status=error.status_code, headers=error.headers)


def _request_id(request: HttpRequest) -> tuple[str, bool]:
    """The client's Idempotency-Key (True: it may be a replay), or a fresh id."""
    given = request.headers.get("Idempotency-Key") or request.headers.get("X-Request-Id")
    if given is None:
        return uuid.uuid4().hex, False
    if not REQUEST_ID.match(given):
        raise ApplicationError(
            "Idempotency-Key: 1 to 64 letters, digits or _.:-", {"param": "Idempotency-Key"}
        )
    return given, True


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApplicationError(f"Body is not valid JSON: {error}") from None


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        param, message = first_field_error(serializer.errors)
        raise ApplicationError(
            f"{param}: {message}" if param else message, {"param": param or None}
        )
    return dict(serializer.validated_data)


def _guarded(
    view: Callable[..., Awaitable[HttpResponse]],
) -> Callable[..., Awaitable[HttpResponse]]:
    """Every ApplicationError raised before streaming starts becomes its JSON error."""

    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return await view(request, *args, **kwargs)
        except ApplicationError as error:
            return _error_response(error)
        except Http404:
            return _error_response(NotFound("No such conversation."))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _credits(value: Decimal) -> str:
    return str(value.quantize(CREDIT_PLACES))


def _sse(data: dict[str, Any] | str, event: str | None = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def _streaming(body: AsyncIterator[str], request_id: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    response["X-Request-Id"] = request_id
    return response


# /api/ai/chat ----------------------------------------------------------------------------


class ChatInput(serializers.Serializer):
    message = serializers.CharField(trim_whitespace=False, max_length=2_000_000)
    conversation_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    assistant = serializers.SlugField(required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=MODES, required=False, allow_blank=True)
    model = serializers.CharField(required=False, allow_blank=True, max_length=120)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=32_000)
    has_images = serializers.BooleanField(required=False, default=False)
    stream = serializers.BooleanField(required=False, default=True)


def chat_event_payload(event: ChatEvent) -> tuple[str, dict[str, Any]]:
    """(event name, JSON payload) of one pipeline event, in credits only (never raw cost)."""
    match event:
        case PrecheckEvent(outcome):
            return "precheck", precheck_payload(outcome)
        case RouteEvent(decision, assistant):
            text = f"{assistant.name} · {decision.model} · because {decision.reason}"
            return "route", {
                "assistant": assistant.family,
                "assistant_name": assistant.name,
                "model": decision.model,
                "fallbacks": list(decision.fallbacks),
                "reason": decision.reason,
                "summary": text,
            }
        case DeltaEvent(text):
            return "delta", {"text": text}
        case UsageEvent(input_tokens, output_tokens, credits, incomplete):
            return "usage", {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "credits": _credits(credits),
                "incomplete": incomplete,
            }
        case DoneEvent(model, request_id, finish_reason, conversation_id):
            return "done", {
                "model": model,
                "request_id": request_id,
                "finish_reason": finish_reason,
                "conversation_id": conversation_id,
            }
        case ErrorEvent(message, code, partial):
            return "error", {"message": message, "code": code, "partial": partial}
    raise TypeError(f"unknown event {event!r}")


@csrf_exempt
@require_POST
@_guarded
async def chat_api(request: HttpRequest) -> HttpResponse:
    """Route and answer one message; SSE events, or one JSON object with `stream: false`."""
    org, user, api_key = await _authenticate(request, allow_session=True)
    data = _validated(ChatInput, _json_body(request))
    request_id, request_id_given = _request_id(request)
    chat = ChatRequest(
        org=org,
        user=user,
        api_key=api_key,
        messages=(ChatMessage(role="user", content=data["message"]),),
        request_id=request_id,
        request_id_given=request_id_given,
        assistant=data.get("assistant") or None,
        mode=data.get("mode") or None,
        model=data.get("model") or None,
        max_tokens=data.get("max_tokens"),
        conversation_id=data.get("conversation_id"),
        has_images=data["has_images"],
    )
    prepared = await chat_prepare(chat)
    if data["stream"]:
        return _streaming(_chat_sse(chat_stream(prepared)), chat.request_id)
    return JsonResponse(await _chat_collect(chat_stream(prepared)))


async def _chat_sse(events: AsyncIterator[ChatEvent]) -> AsyncIterator[str]:
    async for event in events:
        name, payload = chat_event_payload(event)
        yield _sse(payload, name)


async def _chat_collect(events: AsyncIterator[ChatEvent]) -> dict[str, Any]:
    result: dict[str, Any] = {"answer": ""}
    async for event in events:
        name, payload = chat_event_payload(event)
        if name == "delta":
            result["answer"] += payload["text"]
        else:
            result[name] = payload
    return result


# OpenAI-compatible /v1 -------------------------------------------------------------------


class V1Message(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "user", "assistant", "developer"])
    content = serializers.JSONField()

    class Meta:
        ref_name = "V1Message"

    def validate_content(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, list):  # content parts: keep the text ones
            texts = [
                p.get("text", "") for p in value if isinstance(p, dict) and p.get("type") == "text"
            ]
            return "\n".join(texts)
        raise serializers.ValidationError("a string or a list of content parts")


class V1ChatInput(serializers.Serializer):
    model = serializers.CharField(max_length=120)
    messages = V1Message(many=True, allow_empty=False)
    stream = serializers.BooleanField(required=False, default=False)
    stream_options = serializers.DictField(required=False)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=32_000)
    max_completion_tokens = serializers.IntegerField(required=False, min_value=1, max_value=32_000)
    temperature = serializers.FloatField(required=False, min_value=0, max_value=2)


def _v1_has_images(messages: list[Any]) -> bool:
    return any(
        isinstance(part, dict) and part.get("type") == "image_url"
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
    )


@csrf_exempt
@require_POST
@_guarded
async def v1_chat_completions(request: HttpRequest) -> HttpResponse:
    """OpenAI's chat completions; `model: "auto"` lets Switchboard route."""
    org, user, api_key = await _authenticate(request, allow_session=False)
    raw = _json_body(request)
    data = _validated(V1ChatInput, raw)
    request_id, request_id_given = _request_id(request)
    messages = tuple(
        ChatMessage(role="system" if m["role"] == "developer" else m["role"], content=m["content"])
        for m in data["messages"]
    )
    chat = ChatRequest(
        org=org,
        user=user,
        api_key=api_key,
        messages=messages,
        request_id=request_id,
        request_id_given=request_id_given,
        model=None if data["model"] == "auto" else data["model"],
        max_tokens=data.get("max_completion_tokens") or data.get("max_tokens"),
        temperature=data.get("temperature"),
        has_images=_v1_has_images(raw["messages"]),
        product_chat=False,
    )
    prepared = await chat_prepare(chat)
    completion_id = f"chatcmpl-{chat.request_id}"
    model = prepared.decision.model or data["model"]
    if data["stream"]:
        include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
        body = _v1_sse(chat_stream(prepared), completion_id, model, include_usage)
        return _streaming(body, chat.request_id)
    return await _v1_json(chat_stream(prepared), completion_id, model)


def _chunk(completion_id: str, model: str, created: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        **fields,
    }


def _usage_dict(event: UsageEvent) -> dict[str, Any]:
    return {
        "prompt_tokens": event.input_tokens,
        "completion_tokens": event.output_tokens,
        "total_tokens": event.input_tokens + event.output_tokens,
        "credits": _credits(event.credits),
    }


async def _v1_sse(
    events: AsyncIterator[ChatEvent], completion_id: str, model: str, include_usage: bool
) -> AsyncIterator[str]:
    created, usage, started = int(time.time()), None, False
    async for event in events:
        if isinstance(event, DeltaEvent):
            delta = (
                {"content": event.text} if started else {"role": "assistant", "content": event.text}
            )
            started = True
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            yield _sse(_chunk(completion_id, model, created, choices=[choice]))
        elif isinstance(event, UsageEvent):
            usage = _usage_dict(event)
        elif isinstance(event, DoneEvent):
            choice = {"index": 0, "delta": {}, "finish_reason": event.finish_reason}
            yield _sse(_chunk(completion_id, event.model, created, choices=[choice]))
            if include_usage and usage:
                yield _sse(_chunk(completion_id, event.model, created, choices=[], usage=usage))
            yield _sse("[DONE]")
        elif isinstance(event, ErrorEvent):
            yield _sse(error_body(event.message, error_type="api_error", code=event.code))


async def _v1_json(
    events: AsyncIterator[ChatEvent], completion_id: str, model: str
) -> JsonResponse:
    text, usage, finish = [], None, None
    async for event in events:
        if isinstance(event, DeltaEvent):
            text.append(event.text)
        elif isinstance(event, UsageEvent):
            usage = _usage_dict(event)
        elif isinstance(event, DoneEvent):
            finish, model = event.finish_reason, event.model
        elif isinstance(event, ErrorEvent) and not event.partial:
            return JsonResponse(
                error_body(event.message, error_type="api_error", code=event.code), status=502
            )
        elif isinstance(event, ErrorEvent):
            finish = "length"  # cut mid-answer: the partial text is returned, billed as such
    message = {"role": "assistant", "content": "".join(text)}
    return JsonResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish or "stop"}],
            "usage": usage,
        }
    )


@require_GET
@_guarded
async def v1_models(request: HttpRequest) -> HttpResponse:
    """The models the key's plan can use, plus `auto`, in OpenAI's list shape."""
    org, user, _ = await _authenticate(request, allow_session=False)
    available = await db_step(_available_models)(org, user)
    created = int(time.time())
    data = [{"id": "auto", "object": "model", "created": created, "owned_by": "switchboard"}]
    data += [
        {"id": slug, "object": "model", "created": created, "owned_by": provider}
        for slug, provider in available
    ]
    return JsonResponse({"object": "list", "data": data})


def _available_models(org: Organization, user: User) -> list[tuple[str, str]]:
    entitlement = entitlement_get(org=org, user=user)
    rows = model_availability(catalog=catalog_snapshot(), entitlement=entitlement)
    return [(model.slug, model.provider) for model, reason in rows if reason is None]
