"""Usage over the API: a tenant's credits (display units only) and staff's model-call list."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org
from accounts.models import Organization, User
from billing.selectors import subscription_get_live
from billing.services import month_bounds
from routing.models import AIModel, ModelProvider
from usage.models import CallStatus
from usage.selectors import model_call_list, usage_summary

MAX_PAGE = 200


def _credits(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=4, **kwargs)


def _money(source: str) -> serializers.DecimalField:
    """A cost of the call's CostRecord, a Decimal string to 10 places; null until billed."""
    return serializers.DecimalField(
        max_digits=20, decimal_places=10, source=source, allow_null=True, read_only=True
    )


def _slug_lookup(queryset: Any, slug_field: str, what: str) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field=slug_field,
        queryset=queryset,
        required=False,
        error_messages={"does_not_exist": f"No {what} '{{value}}'."},
    )


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    credits = _credits()
    requests = serializers.IntegerField()
    tokens = serializers.IntegerField()

    class Meta:
        ref_name = "UsageDay"


class UsageFamilySerializer(serializers.Serializer):
    family = serializers.CharField(help_text="Assistant family; empty when none was used")
    credits = _credits()
    requests = serializers.IntegerField()
    tokens = serializers.IntegerField()

    class Meta:
        ref_name = "UsageFamily"


class UsageSummaryApi(APIView):
    """Credits used and left this billing period; never raw provider cost."""

    class FilterSerializer(serializers.Serializer):
        user = serializers.ChoiceField(
            choices=["me"], required=False, help_text="`me`: only the caller's own usage"
        )

        class Meta:
            ref_name = "UsageSummaryFilter"

    class OutputSerializer(serializers.Serializer):
        plan = serializers.CharField(allow_null=True, help_text="Plan name; null without one")
        plan_slug = serializers.CharField(allow_null=True)
        scope = serializers.CharField(help_text="`organization`, or `user` with ?user=me")
        period_start = serializers.DateTimeField()
        period_end = serializers.DateTimeField(help_text="Exclusive")
        credits_used = _credits()
        credits_left = _credits(help_text="The organisation's balance, shared by its members")
        requests = serializers.IntegerField()
        tokens = serializers.IntegerField()
        by_day = UsageDaySerializer(many=True)
        by_family = UsageFamilySerializer(many=True)

        class Meta:
            ref_name = "UsageSummary"

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, 400: OpenApiResponse(description="Invalid filter")},
        summary="Credits used and left this billing period, by day and by assistant family",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        org = request_org(request)
        only_me = filters.validated_data.get("user") == "me"
        subscription = subscription_get_live(org=org)
        # Without a live subscription there is no billing period: show the calendar month.
        start, end = (
            (subscription.current_period_start, subscription.current_period_end)
            if subscription
            else month_bounds(timezone.now())
        )
        summary = usage_summary(
            org=org, user=request.user if only_me else None, start=start, end=end
        )
        data = {
            **vars(summary),
            "plan": subscription.plan.name if subscription else None,
            "plan_slug": subscription.plan.slug if subscription else None,
            "scope": "user" if only_me else "organization",
            "period_start": summary.start,
            "period_end": summary.end,
        }
        return Response(self.OutputSerializer(data).data)


class ModelCallRowSerializer(serializers.Serializer):
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

    class FilterSerializer(serializers.Serializer):
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

    class OutputSerializer(serializers.Serializer):
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
