"""The billing page (`/app/billing/`): plan and its state, checkout and the customer portal
when payments are configured, monthly budget caps, and the credit history. Everyone in the
organisation can read it; owners and admins change it. Also Stripe's webhook endpoint."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.errors import ApplicationError, error_body
from accounts.models import ApiKey, Membership, Organization
from accounts.types import OrgHttpRequest
from billing.budget import budget_cap_set, budget_caps_in_use
from billing.models import CreditLedger, Plan
from billing.selectors import credit_balance, subscription_get_live
from billing.stripe_api import (
    WebhookRejected,
    checkout_url,
    payments_configured,
    portal_url,
    webhook_event,
)
from billing.stripe_events import stripe_event_apply

PAGE = "billing/billing.html"
PARTIALS = {"caps"}
LEDGER_ROWS = 25


class BudgetCapForm(forms.Form):
    subject = forms.ChoiceField(label="Cap on")
    monthly_credits = forms.DecimalField(
        label="Credits a month",
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text="Leave empty to remove the cap.",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Membership.objects.for_org(org).select_related("user").order_by("user__email")
        keys = ApiKey.objects.for_org(org).filter(revoked_at__isnull=True).order_by("name")
        cast(forms.ChoiceField, self.fields["subject"]).choices = [
            ("organization", "The whole organisation"),
            *((f"member:{m.user_id}", f"Member {m.user.email}") for m in members),
            *((f"key:{k.pk}", f"API key {k.name} ({k.prefix}…)") for k in keys),
        ]
        self._members = {f"member:{m.user_id}": m.user for m in members}
        self._keys = {f"key:{k.pk}": k for k in keys}

    def save(self, *, org: Organization, actor: Any) -> None:
        subject = self.cleaned_data["subject"]
        budget_cap_set(
            org=org,
            actor=actor,
            monthly_credits=self.cleaned_data["monthly_credits"],
            user=self._members.get(subject),
            api_key=self._keys.get(subject),
        )


def _org(request: OrgHttpRequest) -> Organization:
    if request.org is None:
        raise PermissionDenied("You are not a member of any organisation.")
    return request.org


def _can_manage(request: OrgHttpRequest) -> bool:
    return request.membership is not None and request.membership.can_manage


def _context(request: OrgHttpRequest, **extra: Any) -> dict[str, Any]:
    org = _org(request)
    subscription = subscription_get_live(org=org)
    payments = payments_configured()
    return {
        "subscription": subscription,
        "credits_left": credit_balance(org=org),
        "can_manage": _can_manage(request),
        "payments": payments,
        "paid_plans": Plan.objects.filter(is_public=True).exclude(stripe_price_id="")
        if payments
        else [],
        "billed_by_stripe": bool(subscription and subscription.stripe_subscription_id),
        "caps": budget_caps_in_use(org=org),
        "cap_form": extra.pop("cap_form", None) or BudgetCapForm(org=org),
        "ledger": CreditLedger.objects.for_org(org).order_by("-at", "-id")[:LEDGER_ROWS],
        "checkout": request.GET.get("checkout", ""),
        **extra,
    }


def _render(request: OrgHttpRequest, **extra: Any) -> HttpResponse:
    template = PAGE
    if request.htmx and request.htmx.target in PARTIALS:
        template += f"#{request.htmx.target}"
    return render(request, template, _context(request, **extra))


@login_required
@require_GET
def billing_page(request: OrgHttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_POST
def budget_cap_save(request: OrgHttpRequest) -> HttpResponse:
    """Set or remove one cap; errors come back under their fields."""
    org = _org(request)
    form = BudgetCapForm(request.POST, org=org)
    if form.is_valid():
        try:
            form.save(org=org, actor=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error("subject" if field != "monthly_credits" else field, errors)
        else:
            if not request.htmx:
                messages.success(request, "Budget cap saved.")
                return redirect(reverse("billing:page") + "#caps")
            return _render(request, cap_notice="Budget cap saved.")
    if not request.htmx:
        return render(request, PAGE, _context(request, cap_form=form), status=400)
    return _render(request, cap_form=form)


@login_required
@require_POST
def checkout_start(request: OrgHttpRequest) -> HttpResponse:
    """Send an owner or admin to Stripe Checkout for the chosen paid plan."""
    org = _org(request)
    if not _can_manage(request):
        raise PermissionDenied("Only owners and admins can subscribe.")
    plan = Plan.objects.filter(
        is_public=True, slug=request.POST.get("plan", ""), stripe_price_id__gt=""
    ).first()
    if not payments_configured() or plan is None:
        messages.error(request, "That plan cannot be bought here; ask for it with a plan request.")
        return redirect("billing:page")
    page = request.build_absolute_uri(reverse("billing:page"))
    subscription = subscription_get_live(org=org)
    try:
        url = checkout_url(
            org=org,
            plan=plan,
            email=request.user.email,
            customer_id=subscription.stripe_customer_id if subscription else "",
            success_url=f"{page}?checkout=success",
            cancel_url=f"{page}?checkout=cancelled",
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("billing:page")
    return redirect(url)


@login_required
@require_POST
def portal_open(request: OrgHttpRequest) -> HttpResponse:
    """Stripe's customer portal: change the card, the plan, or cancel."""
    org = _org(request)
    subscription = subscription_get_live(org=org)
    if not _can_manage(request) or subscription is None or not subscription.stripe_customer_id:
        raise PermissionDenied("Only owners and admins of a subscribed organisation can do that.")
    try:
        url = portal_url(
            customer_id=subscription.stripe_customer_id,
            return_url=request.build_absolute_uri(reverse("billing:page")),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("billing:page")
    return redirect(url)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events, verified by signature; 400 and no change for anything else."""
    try:
        event = webhook_event(request.body, request.headers.get("Stripe-Signature"))
    except WebhookRejected as error:
        body = error_body(
            error.message, error_type=error.error_type, code=error.code, **error.extra
        )
        return JsonResponse(body, status=400)
    return JsonResponse({"received": True, "applied": stripe_event_apply(event)})
