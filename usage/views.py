"""The organisation's dashboard and the usage page, in credits only (raw provider cost is for
staff): credits used and left this period, recent answers, use by day and by assistant, and the
user's plan requests with a form for more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.errors import ApplicationError
from accounts.models import Organization, User
from accounts.types import OrgHttpRequest
from billing.models import Plan, Subscription
from billing.periods import month_bounds
from billing.selectors import plan_request_list, subscription_get_live
from billing.services import plan_request_create
from routing.models import Assistant
from usage.selectors import UsageSummary, usage_recent, usage_summary

PAGE = "usage/usage.html"
PARTIALS = {"plan-requests"}


@dataclass(frozen=True)
class DayBar:
    day: date
    credits: Decimal
    requests: int
    percent: int  # of the busiest day, for the bar's height


def _org(request: OrgHttpRequest) -> Organization:
    if request.org is None:
        raise PermissionDenied("You are not a member of any organisation.")
    return request.org


def daily_bars(summary: UsageSummary, *, today: date) -> list[DayBar]:
    """One bar per day of the period so far, empty days included, scaled to the busiest."""
    by_day = {d.day: d for d in summary.by_day}
    first, last = summary.start.date(), min(today, (summary.end - timedelta(days=1)).date())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    peak = max((d.credits for d in summary.by_day), default=Decimal(0))
    bars = []
    for day in days:
        used = by_day.get(day)
        credits = used.credits if used else Decimal(0)
        percent = int(credits * 100 / peak) if peak else 0
        # A day with any use gets at least a sliver, so small days do not look empty.
        percent = max(percent, 1) if used else 0
        bars.append(DayBar(day, credits, used.requests if used else 0, percent))
    return bars


def _period_summary(org: Organization) -> tuple[Subscription | None, UsageSummary]:
    """The live subscription and this period's usage (the calendar month without a plan)."""
    subscription = subscription_get_live(org=org)
    start, end = (
        (subscription.current_period_start, subscription.current_period_end)
        if subscription
        else month_bounds(timezone.now())
    )
    return subscription, usage_summary(org=org, start=start, end=end)


@login_required
@require_GET
def dashboard(request: OrgHttpRequest) -> HttpResponse:
    """The organisation at a glance: plan, credits left, this period's use, recent answers."""
    org = _org(request)
    subscription, summary = _period_summary(org)
    names = _assistant_names()
    context = {
        "subscription": subscription,
        "summary": summary,
        "recent": [
            (names.get(row.assistant_family, row.assistant_family or "Direct model"), row)
            for row in usage_recent(org=org)
        ],
    }
    return render(request, "usage/dashboard.html", context)


def _assistant_names() -> dict[str, str]:
    return dict(Assistant.objects.values_list("family", "name"))


def _context(org: Organization, user: User, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    subscription, summary = _period_summary(org)
    bars = daily_bars(summary, today=now.date())
    names = _assistant_names()
    plans = Plan.objects.filter(is_public=True)
    return {
        "subscription": subscription,
        "summary": summary,
        "bars": bars,
        "peak": max(bars, key=lambda bar: bar.credits, default=None),
        "families": [
            (names.get(f.family, f.family or "Direct model"), f) for f in summary.by_family
        ],
        "plan_requests": plan_request_list(org=org, user=user),
        "plans": plans.exclude(pk=subscription.plan_id) if subscription else plans,
        **extra,
    }


def _render(request: OrgHttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    template = PAGE
    if request.htmx and request.htmx.target in PARTIALS:
        template += f"#{request.htmx.target}"
    return render(request, template, _context(_org(request), request.user, **extra), status=status)


@login_required
@require_GET
def usage_page(request: OrgHttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_POST
def plan_request_create_page(request: OrgHttpRequest) -> HttpResponse:
    """Ask staff for another plan; the list below the form shows it pending."""
    plan = Plan.objects.filter(is_public=True, slug=request.POST.get("plan", "")).first()
    try:
        plan_request_create(
            org=_org(request), user=request.user, plan=plan, reason=request.POST.get("reason", "")
        )
    except (ApplicationError, PermissionDenied) as error:
        message = getattr(error, "message", None) or str(error)
        if request.htmx:
            return _render(request, request_error=message)
        messages.error(request, message)
    else:
        if request.htmx:
            return _render(request, request_notice="Request sent to the Switchboard team.")
        messages.success(request, "Request sent to the Switchboard team.")
    return redirect("usage:page")
