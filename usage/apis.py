"""Usage over the API: a tenant's credits (display units only) and staff's model-call list."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org, request_user
from billing.periods import month_bounds
from billing.selectors import subscription_get_live
from usage.selectors import DayUsage, FamilyUsage, usage_summary


def _credits(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=4, **kwargs)


class UsageDaySerializer(serializers.Serializer[DayUsage]):
    day = serializers.DateField()
    credits = _credits()
    requests = serializers.IntegerField()
    tokens = serializers.IntegerField()

    class Meta:
        ref_name = "UsageDay"


class UsageFamilySerializer(serializers.Serializer[FamilyUsage]):
    family = serializers.CharField(help_text="Assistant family; empty when none was used")
    credits = _credits()
    requests = serializers.IntegerField()
    tokens = serializers.IntegerField()

    class Meta:
        ref_name = "UsageFamily"


class UsageSummaryApi(APIView):
    """Credits used and left this billing period; never raw provider cost."""

    class FilterSerializer(serializers.Serializer[None]):
        user = serializers.ChoiceField(
            choices=["me"], required=False, help_text="`me`: only the caller's own usage"
        )

        class Meta:
            ref_name = "UsageSummaryFilter"

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
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
            org=org, user=request_user(request) if only_me else None, start=start, end=end
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
