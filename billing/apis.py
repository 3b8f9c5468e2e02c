"""Billing over the API: the caller's plan and credits, and plan requests (members ask for a
plan or an assistant family; staff decide)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org, request_user
from accounts.selectors import membership_get
from billing.models import Plan, PlanRequest
from billing.selectors import credit_balance, plan_request_list_visible, subscription_get_live
from billing.services import plan_request_create


class PlanRequestOutputSerializer(serializers.Serializer[PlanRequest]):
    id = serializers.IntegerField()
    user = serializers.EmailField(source="user.email")
    plan = serializers.SlugField(source="requested_plan.slug", allow_null=True)
    plan_name = serializers.CharField(source="requested_plan.name", allow_null=True)
    family = serializers.CharField(source="requested_family")
    reason = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(help_text="Staff's note on the decision")

    class Meta:
        ref_name = "PlanRequest"


class PlanRequestListCreateApi(APIView):
    class InputSerializer(serializers.Serializer[None]):
        plan = serializers.SlugRelatedField(
            slug_field="slug",
            queryset=Plan.objects.filter(is_public=True),
            required=False,
            allow_null=True,
            error_messages={"does_not_exist": "No plan '{value}'."},
            help_text="Plan slug; give this or `family`",
        )
        family = serializers.SlugField(
            max_length=100, required=False, allow_blank=True, help_text="Assistant family slug"
        )
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "PlanRequestCreateInput"

    @extend_schema(
        responses=PlanRequestOutputSerializer(many=True),
        summary="Plan requests: the caller's own, or all of the organisation's for owners/admins",
    )
    def get(self, request: Request) -> Response:
        requests = plan_request_list_visible(org=request_org(request), user=request_user(request))
        # The stubs type `instance` as one object even with many=True (drf-stubs issue 827).
        serializer = PlanRequestOutputSerializer(requests, many=True)  # type: ignore[arg-type]
        return Response(serializer.data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: PlanRequestOutputSerializer,
            400: OpenApiResponse(description="Invalid or already granted; `error.param` names it"),
            409: OpenApiResponse(description="Already pending; `error.existing_id` is that one"),
        },
        summary="Ask for a plan or an assistant family",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = plan_request_create(
            org=request_org(request),
            user=request_user(request),
            plan=data.get("plan"),
            family=data.get("family", ""),
            reason=data.get("reason", ""),
        )
        return Response(PlanRequestOutputSerializer(created).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        email = serializers.EmailField()
        organization = serializers.CharField()
        organization_slug = serializers.CharField()
        role = serializers.CharField()
        plan = serializers.CharField(allow_null=True)
        credits_left = serializers.DecimalField(max_digits=20, decimal_places=4)

        class Meta:
            ref_name = "Me"

    @extend_schema(responses=OutputSerializer, summary="The caller, their organisation and plan")
    def get(self, request: Request) -> Response:
        org = request_org(request)
        user = request_user(request)
        membership = membership_get(org=org, user=user)
        subscription = subscription_get_live(org=org)
        data = {
            "email": user.email,
            "organization": org.name,
            "organization_slug": org.slug,
            "role": membership.role if membership else "",
            "plan": subscription.plan.name if subscription else None,
            "credits_left": credit_balance(org=org),
        }
        return Response(self.OutputSerializer(data).data)
