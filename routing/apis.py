from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org
from billing.selectors import entitlement_get
from routing.errors import PromptBlocked
from routing.models import AIModel
from routing.policy import MODES, model_availability
from routing.precheck.pipeline import precheck_run
from routing.selectors import catalog_get, routing_rule_list
from routing.services import aimodel_set_active, prompt_check_record
from routing.types import PrecheckOutcome

CREDIT_PLACES = Decimal("0.0001")


class ErrorSerializer(serializers.Serializer):
    error = serializers.DictField()


def _credits(value: Decimal) -> str:
    return str(value.quantize(CREDIT_PLACES))


def precheck_payload(outcome: PrecheckOutcome) -> dict[str, Any]:
    """What a customer sees of a precheck: labels, risk and the route in credits only."""
    decision = outcome.decision.as_dict() if outcome.decision else None
    if decision:
        decision["est_credits"] = _credits(outcome.decision.est_credits)
    return {
        "prompt_sha256": outcome.prompt_sha256,
        "task_type": outcome.task_type,
        "complexity": outcome.complexity,
        "language": outcome.language,
        "needs_images": outcome.needs_images,
        "est_input_tokens": outcome.input_tokens,
        "risk_level": outcome.risk_level,
        "risk_categories": list(outcome.risk_categories),
        "blocked": outcome.blocked,
        "recommended_assistant": (
            {
                "family": outcome.assistant.family,
                "name": outcome.assistant.name,
                "reason": outcome.assistant.reason,
            }
            if outcome.assistant
            else None
        ),
        "route": decision,
    }


class PrecheckApi(APIView):
    throttle_scope = "precheck"

    class InputSerializer(serializers.Serializer):
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
        org = request_org(request)
        outcome = precheck_run(
            text=data["prompt"],
            entitlement=entitlement_get(org=org, user=request.user),
            catalog=catalog_get(),
            rules=routing_rule_list(org=org),
            assistant=data.get("assistant") or None,
            mode=data.get("mode") or None,
            has_images=data["has_images"],
        )
        prompt_check_record(org=org, user=request.user, outcome=outcome)
        if outcome.blocked:
            raise PromptBlocked(
                str(outcome.refusal),
                {"categories": list(outcome.risk_categories), "risk_level": outcome.risk_level},
            )
        return Response(precheck_payload(outcome))


class ModelListApi(APIView):
    throttle_scope = "models"

    @extend_schema(
        responses={200: OpenApiResponse(description="Models available to the plan, and why not")},
        summary="Models the caller's plan can use, with prices in credits",
    )
    def get(self, request: Request) -> Response:
        org = request_org(request)
        entitlement = entitlement_get(org=org, user=request.user)
        available, unavailable = [], []
        for model, reason in model_availability(catalog=catalog_get(), entitlement=entitlement):
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
                    "input_credits_per_mtok": _credits(
                        entitlement.to_credits(model.input_cost_per_mtok)
                    ),
                    "output_credits_per_mtok": _credits(
                        entitlement.to_credits(model.output_cost_per_mtok)
                    ),
                }
            )
        return Response(
            {"plan": entitlement.plan_name, "available": available, "unavailable": unavailable}
        )


class AIModelActiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    active = serializers.BooleanField()

    class Meta:
        ref_name = "AIModelActive"


def _aimodel_set_active_response(request: Request, model_id: int, *, active: bool) -> Response:
    model = get_object_or_404(AIModel, pk=model_id)
    model = aimodel_set_active(model=model, active=active, actor=request.user)
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
