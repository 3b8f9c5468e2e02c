"""Usage over the API: a tenant's credits (display units only) and its FinOps figures."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org, request_user
from accounts.models import Organization
from billing.periods import month_bounds
from billing.selectors import subscription_get_live
from usage.finops import (
    VIEWER_ROLES,
    Figures,
    Period,
    cents,
    finops_daily,
    finops_role,
    finops_totals,
    period_parse,
)
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


def _cents(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20, decimal_places=2, coerce_to_string=False, **kwargs
    )


def _usd(help_text: str) -> serializers.DecimalField:
    return _cents(allow_null=True, help_text=f"{help_text}; USD, null unless the caller is staff")


class FinopsFiguresSerializer(serializers.Serializer[dict[str, Any]]):
    requests = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
    fallbacks = serializers.IntegerField(help_text="Requests answered by a fallback model")
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    credits = _cents(help_text="Credits spent, to the cent")
    benchmark_credits = _cents(help_text="What the same tokens would have cost at the benchmark")
    savings_credits = _cents(help_text="benchmark_credits - credits")
    savings_rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, coerce_to_string=False, help_text="0..1"
    )
    raw_cost = _usd("Provider cost")
    benchmark_cost = _usd("The benchmark model's list price for the same tokens")
    savings = _usd("benchmark_cost - raw_cost")

    class Meta:
        ref_name = "FinopsFigures"


class FinopsDaySerializer(FinopsFiguresSerializer):
    day = serializers.DateField()

    class Meta:
        ref_name = "FinopsDay"


class _FromField:
    """Names the field `from_` as `from` (a Python keyword, so it cannot be an attribute)."""

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()  # type: ignore[misc]
        fields["from"] = fields.pop("from_")
        return fields


class FinopsPeriodSerializer(_FromField, serializers.Serializer[None]):
    from_ = serializers.CharField(
        required=False, help_text="First day, YYYY-MM-DD (default: the 1st of this month)"
    )
    to = serializers.CharField(
        required=False, help_text="Last day, inclusive (default: the end of from's month)"
    )

    class Meta:
        ref_name = "FinopsPeriod"


def _finops_period(request: Request) -> tuple[Organization, Period, bool]:
    """The caller's organisation and period; 403 unless owner, admin or finance."""
    org, user = request_org(request), request_user(request)
    if finops_role(org=org, user=user) not in VIEWER_ROLES:
        raise exceptions.PermissionDenied(
            "FinOps figures are for the organisation's owners, admins and finance."
        )
    period = period_parse(
        first=request.query_params.get("from"),
        last=request.query_params.get("to"),
        today=timezone.now().date(),
    )
    return org, period, user.is_staff


def _figures(figures: Figures, *, show_raw: bool) -> dict[str, Any]:
    return {
        **{name: getattr(figures, name) for name in _COUNTS},
        "credits": cents(figures.credits),
        "benchmark_credits": cents(figures.benchmark_credits),
        "savings_credits": cents(figures.savings_credits),
        "savings_rate": figures.savings_rate,
        "raw_cost": cents(figures.raw_cost) if show_raw else None,
        "benchmark_cost": cents(figures.benchmark_cost) if show_raw else None,
        "savings": cents(figures.savings) if show_raw else None,
    }


_COUNTS = ("requests", "cache_hits", "fallbacks", "input_tokens", "output_tokens")


class FinopsSummaryApi(APIView):
    """The headline FinOps figures of a period, for owners, admins and finance."""

    class OutputSerializer(_FromField, FinopsFiguresSerializer):
        from_ = serializers.DateField()
        to = serializers.DateField()
        benchmark_model = serializers.CharField()

        class Meta:
            ref_name = "FinopsSummary"

    @extend_schema(
        parameters=[FinopsPeriodSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Invalid period"),
            403: OpenApiResponse(description="Not an owner, admin or finance member"),
        },
        summary="FinOps totals of a period: requests, credits, benchmark cost and savings",
    )
    def get(self, request: Request) -> Response:
        org, period, show_raw = _finops_period(request)
        totals = finops_totals(org=org, period=period)
        data = {
            "from": period.first,
            "to": period.last,
            "benchmark_model": settings.FINOPS_BENCHMARK_MODEL,
            **_figures(totals, show_raw=show_raw),
        }
        return Response(self.OutputSerializer(data).data)


class FinopsDailyApi(APIView):
    """The FinOps figures of each day of a period, empty days included."""

    class OutputSerializer(_FromField, serializers.Serializer[dict[str, Any]]):
        from_ = serializers.DateField()
        to = serializers.DateField()
        days = FinopsDaySerializer(many=True)

        class Meta:
            ref_name = "FinopsDaily"

    @extend_schema(
        parameters=[FinopsPeriodSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Invalid period"),
            403: OpenApiResponse(description="Not an owner, admin or finance member"),
        },
        summary="FinOps figures per day of a period",
    )
    def get(self, request: Request) -> Response:
        org, period, show_raw = _finops_period(request)
        days = [
            {"day": d.day, **_figures(d.figures, show_raw=show_raw)}
            for d in finops_daily(org=org, period=period)
        ]
        body = {"from": period.first, "to": period.last, "days": days}
        return Response(self.OutputSerializer(body).data)
