"""Staff APIs (platform staff only): model calls across organisations with raw costs, and
model activation. They write only through the owning apps' services."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user
from accounts.models import Organization, User
from routing.models import AIModel, ModelProvider
from routing.services import aimodel_set_active
from usage.models import CallStatus, ModelCall
from usage.selectors import model_call_list

MAX_PAGE = 200

_M = TypeVar("_M", bound=Model)


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    error = serializers.DictField()

    class Meta:
        ref_name = "StaffError"


def _money(source: str) -> serializers.DecimalField:
    """A cost of the call's CostRecord, a Decimal string to 10 places; null until billed."""
    return serializers.DecimalField(
        max_digits=20, decimal_places=10, source=source, allow_null=True, read_only=True
    )


def _slug_lookup(
    queryset: QuerySet[_M], slug_field: str, what: str
) -> serializers.SlugRelatedField[_M]:
    return serializers.SlugRelatedField(
        slug_field=slug_field,
        queryset=queryset,
        required=False,
        error_messages={"does_not_exist": f"No {what} '{{value}}'."},
    )


class ModelCallRowSerializer(serializers.Serializer[ModelCall]):
    """One provider attempt as staff see it. Prompts are not on these rows at all."""

    id = serializers.IntegerField()
    request_id = serializers.CharField()
    attempt = serializers.IntegerField()
    org = serializers.CharField(source="organization.slug")
    user = serializers.EmailField(source="user.email", allow_null=True)
    provider = serializers.CharField(source="provider.slug")
    model = serializers.CharField(source="model.slug")
    assistant_family = serializers.CharField()
    task_type = serializers.CharField()
    status = serializers.CharField()
    error = serializers.CharField()
    latency_ms = serializers.IntegerField(allow_null=True)
    ttft_ms = serializers.IntegerField(allow_null=True)
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    raw_cost = _money("cost.raw_cost")
    display_cost = _money("cost.display_cost")
    benchmark_cost = _money("cost.benchmark_cost")
    route_reasons = serializers.JSONField()
    at = serializers.DateTimeField()

    class Meta:
        ref_name = "ModelCallRow"


class ModelCallListApi(APIView):
    """Staff: every organisation's model calls, newest first, with raw and display cost."""

    permission_classes = [IsAdminUser]

    class FilterSerializer(serializers.Serializer[None]):
        org = _slug_lookup(Organization.objects.all(), "slug", "organisation")
        status = serializers.ChoiceField(choices=CallStatus.choices, required=False)
        provider = _slug_lookup(ModelProvider.objects.all(), "slug", "provider")
        model = _slug_lookup(AIModel.objects.all(), "slug", "model")
        user = _slug_lookup(User.objects.all(), "email", "user with email")
        request_id = serializers.CharField(max_length=64, required=False)
        since = serializers.DateTimeField(required=False, help_text="Inclusive, ISO 8601")
        until = serializers.DateTimeField(required=False, help_text="Exclusive, ISO 8601")
        limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=50)
        offset = serializers.IntegerField(min_value=0, default=0)

        class Meta:
            ref_name = "ModelCallFilter"

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        count = serializers.IntegerField()
        limit = serializers.IntegerField()
        offset = serializers.IntegerField()
        results = ModelCallRowSerializer(many=True)

        class Meta:
            ref_name = "ModelCallPage"

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Invalid filter; `error.param` names it"),
            403: OpenApiResponse(description="Not platform staff"),
        },
        summary="Staff: model calls across organisations, newest first",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        calls = model_call_list(
            org=f.get("org"),
            status=f.get("status"),
            provider_id=f["provider"].pk if "provider" in f else None,
            model_id=f["model"].pk if "model" in f else None,
            user_id=f["user"].pk if "user" in f else None,
            request_id=f.get("request_id"),
            since=f.get("since"),
            until=f.get("until"),
        ).select_related("cost")
        limit, offset = f["limit"], f["offset"]
        data = {
            "count": calls.count(),
            "limit": limit,
            "offset": offset,
            "results": calls[offset : offset + limit],
        }
        return Response(self.OutputSerializer(data).data)


class AIModelActiveSerializer(serializers.Serializer[AIModel]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    active = serializers.BooleanField()

    class Meta:
        ref_name = "AIModelActive"


def _aimodel_set_active_response(request: Request, model_id: int, *, active: bool) -> Response:
    model = get_object_or_404(AIModel, pk=model_id)
    model = aimodel_set_active(model=model, active=active, actor=request_user(request))
    return Response(AIModelActiveSerializer(model).data)


_STAFF_RESPONSES = {
    200: AIModelActiveSerializer,
    403: OpenApiResponse(ErrorSerializer, description="Not platform staff"),
    404: OpenApiResponse(ErrorSerializer, description="No such model"),
}


class ModelActivateApi(APIView):
    """Staff: let the router use a model. Audited as `model.activate`; repeating is a no-op."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=_STAFF_RESPONSES, summary="Staff: activate a model")
    def post(self, request: Request, model_id: int) -> Response:
        return _aimodel_set_active_response(request, model_id, active=True)


class ModelDeactivateApi(APIView):
    """Staff: stop routing to a model. Audited as `model.deactivate`; repeating is a no-op."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=_STAFF_RESPONSES, summary="Staff: deactivate a model")
    def post(self, request: Request, model_id: int) -> Response:
        return _aimodel_set_active_response(request, model_id, active=False)
