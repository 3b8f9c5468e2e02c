"""The chat API for our own clients, under Django: `POST /api/ai/chat` (SSE events or one JSON
answer), `POST /api/ai/precheck` and `GET /api/ai/models`.

`/api/ai/chat` is an async view (DRF has no async views, and a chat holds a provider stream
open for seconds); it takes an API key or the browser's session, with a CSRF check for the
session. The other two are DRF views. The OpenAI-compatible `/v1` is in `chat/v1.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org, request_user
from accounts.errors import ApplicationError, error_body
from accounts.models import Organization, User
from chat.db import db_step
from chat.errors import NotFound, Unauthenticated
from chat.events import ChatEvent, credits_text, event_payload, precheck_payload
from chat.http import (
    END_USER_HEADER,
    bearer_secret,
    cache_allowed,
    end_user_parse,
    json_parse,
    request_id_parse,
    sse,
    validated,
)
from chat.inputs import chat_inputs_sync
from chat.pipeline import chat_prepare, chat_stream
from chat.providers.base import ChatMessage
from chat.snapshots import api_key_snapshot, catalog_snapshot, tenant_snapshot_get
from chat.types import ChatRequest
from routing.errors import PromptBlocked
from routing.policy import MODES, model_availability
from routing.preview import route_preview
from routing.services import prompt_check_record


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    error = serializers.DictField()


def error_response(error: ApplicationError) -> JsonResponse:
    body = error_body(error.message, error_type=error.error_type, code=error.code, **error.extra)
    return JsonResponse(body, status=error.status_code, headers=error.headers)


def _guarded(
    view: Callable[..., Awaitable[HttpResponseBase]],
) -> Callable[..., Coroutine[Any, Any, HttpResponseBase]]:
    """Every ApplicationError raised before streaming starts becomes its JSON error."""

    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return await view(request, *args, **kwargs)
        except ApplicationError as error:
            return error_response(error)
        except Http404:
            return error_response(NotFound("No such conversation."))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


async def _caller(request: HttpRequest) -> tuple[Organization, User, int | None]:
    """The tenant and user: a bearer API key, or the session (CSRF-checked)."""
    secret = bearer_secret(request.headers.get("Authorization", ""))
    if secret is not None:
        key = await api_key_snapshot(secret=secret)
        if key is None:
            raise Unauthenticated("Invalid or revoked API key.")
        return key.organization, key.user, key.pk
    return await db_step(_session_caller)(request)


def _session_caller(request: HttpRequest) -> tuple[Organization, User, None]:
    user, org = request.user, getattr(request, "org", None)
    if not user.is_authenticated or org is None:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    # The view is CSRF-exempt for key holders; a session must pass Django's own check.
    refused = CsrfViewMiddleware(_csrf_checked).process_view(request, _csrf_checked, (), {})
    if refused is not None:
        raise _CsrfRefused(refused)
    return org, user, None


def _csrf_checked(request: HttpRequest) -> HttpResponse:
    """What Django's CSRF check is asked to protect: a view that is not CSRF-exempt."""
    return HttpResponse()


class _CsrfRefused(ApplicationError):
    status_code = 403
    error_type = "permission_error"
    code = "csrf_failed"

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(f"CSRF check failed ({response.status_code}): send the CSRF token.")


class ChatInput(serializers.Serializer[dict[str, Any]]):
    message = serializers.CharField(trim_whitespace=False, max_length=2_000_000)
    conversation_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    assistant = serializers.SlugField(required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=MODES, required=False, allow_blank=True)
    model = serializers.CharField(required=False, allow_blank=True, max_length=120)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=32_000)
    has_images = serializers.BooleanField(required=False, default=False)
    stream = serializers.BooleanField(required=False, default=True)
    cache = serializers.BooleanField(
        required=False, default=True, help_text="false: a fresh answer, never the cached one"
    )


@csrf_exempt
@require_POST
@_guarded
async def chat_api(request: HttpRequest) -> HttpResponseBase:
    """Route and answer one message; SSE events, or one JSON object with `stream: false`."""
    org, user, api_key_id = await _caller(request)
    data = validated(ChatInput, json_parse(request.body))
    request_id, request_id_given = request_id_parse(request.headers.get("Idempotency-Key"))
    chat = ChatRequest(
        org=org,
        user=user,
        api_key_id=api_key_id,
        messages=(ChatMessage(role="user", content=data["message"]),),
        request_id=request_id,
        request_id_given=request_id_given,
        assistant=data.get("assistant") or None,
        mode=data.get("mode") or None,
        model=data.get("model") or None,
        max_tokens=data.get("max_tokens"),
        conversation_id=data.get("conversation_id"),
        has_images=data["has_images"],
        streamed=data["stream"],
        end_user=end_user_parse(field=None, header=request.headers.get(END_USER_HEADER)),
        cache=cache_allowed(request.headers.get("Cache-Control")) and data["cache"],
    )
    prepared = await chat_prepare(chat)
    if not data["stream"]:
        whole = JsonResponse(await _collected(chat_stream(prepared)))
        whole["X-Switchboard-Cache"] = str(prepared.cache.result)
        return whole
    response = StreamingHttpResponse(_sse(chat_stream(prepared)), content_type="text/event-stream")
    response["X-Switchboard-Cache"] = str(prepared.cache.result)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    response["X-Request-Id"] = chat.request_id
    return response


async def _sse(events: AsyncIterator[ChatEvent]) -> AsyncIterator[str]:
    async for event in events:
        name, payload = event_payload(event)
        yield sse(payload, name)


async def _collected(events: AsyncIterator[ChatEvent]) -> dict[str, Any]:
    result: dict[str, Any] = {"answer": ""}
    async for event in events:
        name, payload = event_payload(event)
        if name == "delta":
            result["answer"] += payload["text"]
        else:
            result[name] = payload
    return result


class PrecheckApi(APIView):
    throttle_scope = "precheck"

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        prompt = serializers.CharField(trim_whitespace=False, max_length=2_000_000)
        assistant = serializers.SlugField(required=False, allow_blank=True)
        mode = serializers.CharField(required=False, allow_blank=True, help_text=" | ".join(MODES))
        has_images = serializers.BooleanField(required=False, default=False)

        class Meta:
            ref_name = "PrecheckInput"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OpenApiResponse(description="Labels, risk, assistant and route preview"),
            400: ErrorSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Blocked; names the category"),
        },
        summary="Precheck a prompt: shield, classifier, assistant and route preview",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        org, user = request_org(request), request_user(request)
        chat = ChatRequest(
            org=org,
            user=user,
            api_key_id=None,
            messages=(ChatMessage(role="user", content=data["prompt"]),),
            assistant=data.get("assistant") or None,
            mode=data.get("mode") or None,
            has_images=data["has_images"],
            product_chat=False,
        )
        preview = route_preview(chat_inputs_sync(chat).precheck)
        prompt_check_record(org=org, user=user, preview=preview)
        outcome = preview.outcome
        if outcome.blocked:
            raise PromptBlocked(
                str(outcome.refusal),
                {"categories": list(outcome.risk_categories), "risk_level": outcome.risk_level},
            )
        return Response(precheck_payload(outcome, preview.assistant, preview.decision))


class ModelListApi(APIView):
    throttle_scope = "models"

    @extend_schema(
        responses={200: OpenApiResponse(description="Models available to the plan, and why not")},
        summary="Models the caller's plan can use, with prices in credits",
    )
    def get(self, request: Request) -> Response:
        org = request_org(request)
        entitlement = tenant_snapshot_get(org=org, user=request_user(request)).entitlement
        available, unavailable = [], []
        for model, reason in model_availability(
            catalog=catalog_snapshot(), entitlement=entitlement
        ):
            row = {"id": model.slug, "name": model.display_name, "provider": model.provider}
            if reason:
                unavailable.append({**row, "reason": reason})
                continue
            available.append(
                {
                    **row,
                    "context_window": model.context_window,
                    "supports_images": model.supports_images,
                    "latency_tier": model.latency_tier,
                    "input_credits_per_mtok": credits_text(
                        entitlement.to_credits(model.input_cost_per_mtok)
                    ),
                    "output_credits_per_mtok": credits_text(
                        entitlement.to_credits(model.output_cost_per_mtok)
                    ),
                }
            )
        return Response(
            {"plan": entitlement.plan_name, "available": available, "unavailable": unavailable}
        )
