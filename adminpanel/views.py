"""The staff console (`/staff/`): provider health, models, plan requests, expensive users,
the model-call inspector and the audit log. Staff only: everyone else gets 404, so the
console's existence is not revealed. Views are thin: they read through adminpanel.selectors
and write through the owning apps' services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.models import Organization, User
from adminpanel.forms import (
    AuditFilterForm,
    CallFilterForm,
    ModelActiveForm,
    PlanDecisionForm,
    ReasonForm,
    SpendForm,
    first_error,
)
from adminpanel.quality import cell_detail, heat_map
from adminpanel.selectors import (
    audit_log_list,
    expensive_api_keys,
    expensive_members,
    expensive_organizations,
    model_catalog,
    plan_request_queue,
    provider_health,
    request_trace,
    window_start,
)
from adminpanel.services import REVEAL_PERMISSION, message_reveal
from billing.models import PlanRequest
from billing.services import plan_request_decide
from routing.breakers import breaker_reset, breaker_states
from routing.models import AIModel, ModelProvider
from routing.services import aimodel_set_active
from routing.types import TASK_TYPES
from usage.selectors import model_call_list

PAGE_SIZE = 50
P = ParamSpec("P")


class StaffRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def staff_only(
    view: Callable[Concatenate[StaffRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """404 for anyone who is not platform staff (signed out included)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_staff):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)  # type: ignore[arg-type]

    return wrapped  # type: ignore[return-value]


def _page(
    request: StaffRequest, template: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only the `partial` region when htmx asks for it."""
    name = f"{template}#{partial}" if request.htmx and request.htmx.target == partial else template
    status = 400 if context.get("error") else 200
    return render(request, template if name == template else name, context, status=status)


@staff_only
@require_GET
def console_home(request: StaffRequest) -> HttpResponse:
    return redirect("staff:health")


@staff_only
@require_GET
def provider_health_page(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    providers = list(ModelProvider.objects.order_by("priority", "slug"))
    breakers = breaker_states(providers=[p.slug for p in providers], now=now)
    context = {
        "section": "health",
        "breaker_rows": [(p, breakers[p.slug]) for p in providers],
        "hour": provider_health(since=window_start(now, "hour")),
        "day": provider_health(since=window_start(now, "day")),
    }
    return _page(request, "adminpanel/health.html", "breakers", context)


@staff_only
@require_POST
def breaker_reset_page(request: StaffRequest, provider: str) -> HttpResponse:
    get_object_or_404(ModelProvider, slug=provider)
    form = ReasonForm(request.POST)
    if form.is_valid():
        breaker_reset(provider=provider, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"The breaker of {provider} is closed again (audited).")
    else:
        messages.error(request, first_error(form))
    return redirect("staff:health")


@staff_only
@require_GET
def model_list_page(request: StaffRequest) -> HttpResponse:
    context = {"section": "models", "rows": model_catalog()}
    return render(request, "adminpanel/models.html", context)


@staff_only
@require_POST
def model_set_active_page(request: StaffRequest, model_id: int) -> HttpResponse:
    """Activate or deactivate with a reason, through routing's audited service."""
    model = get_object_or_404(AIModel, pk=model_id)
    form = ModelActiveForm(request.POST)
    error = None
    if form.is_valid():
        active, reason = bool(form.cleaned_data["active"]), form.cleaned_data["reason"]
        model = aimodel_set_active(model=model, active=active, actor=request.user, reason=reason)
    else:
        error = first_error(form)
    if request.htmx:
        row = next(r for r in model_catalog() if r.model.pk == model.pk)
        context = {"row": row, "row_error": error}
        return render(
            request, "adminpanel/models.html#model-row", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    return redirect("staff:models")


@staff_only
@require_GET
def plan_request_queue_page(request: StaffRequest) -> HttpResponse:
    context = {"section": "plan-requests", "requests": plan_request_queue()[:200]}
    return render(request, "adminpanel/plan_requests.html", context)


@staff_only
@require_POST
def plan_request_decide_page(request: StaffRequest, request_pk: int) -> HttpResponse:
    """Approve or reject with a note, through billing's service (audited, emails and all)."""
    plan_request = get_object_or_404(PlanRequest, pk=request_pk)
    form = PlanDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("staff:plan-requests")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        plan_request_decide(
            request=plan_request,
            approve=approve,
            actor=request.user,
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Request {plan_request.pk} {'approved' if approve else 'rejected'}."
        )
    return redirect("staff:plan-requests")


@staff_only
@require_GET
def expensive_users_page(request: StaffRequest) -> HttpResponse:
    form = SpendForm({"window": "day", "order": "raw", **request.GET.dict()})
    if not form.is_valid():
        context = {"section": "expensive", "form": form, "error": first_error(form)}
        return _page(request, "adminpanel/expensive.html", "spend", context)
    window, order = form.cleaned_data["window"], form.cleaned_data["order"]
    since = window_start(timezone.now(), window)
    context = {
        "section": "expensive",
        "form": form,
        "window": window,
        "order": order,
        "organizations": expensive_organizations(since=since, order=order),
        "members": expensive_members(since=since, order=order),
        "api_keys": expensive_api_keys(since=since, order=order),
    }
    return _page(request, "adminpanel/expensive.html", "spend", context)


def _filtered_calls(data: dict[str, Any]) -> tuple[Any, str | None]:
    """The calls the inspector's filters select, or an error naming the filter."""
    org = user = model = None
    if data["org"] and (org := Organization.objects.filter(slug=data["org"]).first()) is None:
        return None, f"org: no organisation '{data['org']}'."
    if data["user"] and (user := User.objects.filter(email=data["user"]).first()) is None:
        return None, f"user: no user '{data['user']}'."
    if data["model"] and (model := AIModel.objects.filter(slug=data["model"]).first()) is None:
        return None, f"model: no model '{data['model']}'."
    calls = model_call_list(
        org=org,
        status=data["status"] or None,
        model_id=model.pk if model else None,
        user_id=user.pk if user else None,
        request_id=data["request_id"] or None,
        since=data["since"],
        until=data["until"],
    ).select_related("cost")
    if data["api_key"]:
        calls = calls.filter(api_key_id=data["api_key"])
    return calls, None


@staff_only
@require_GET
def call_list_page(request: StaffRequest) -> HttpResponse:
    form = CallFilterForm(request.GET)
    context: dict[str, Any] = {"section": "calls", "form": form}
    if not form.is_valid():
        context["error"] = first_error(form)
    else:
        calls, context["error"] = _filtered_calls(form.cleaned_data)
        if calls is not None:
            context["page"] = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "adminpanel/calls.html", "call-results", context)


@staff_only
@require_GET
def request_trace_page(request: StaffRequest, org_slug: str, request_id: str) -> HttpResponse:
    org = get_object_or_404(Organization, slug=org_slug)
    trace = request_trace(org=org, request_id=request_id)
    if trace is None:
        raise Http404("No such request.")
    context = {
        "section": "calls",
        "trace": trace,
        "can_reveal": request.user.has_perm(REVEAL_PERMISSION),
    }
    return render(request, "adminpanel/trace.html", context)


@staff_only
@require_POST
def message_reveal_page(
    request: StaffRequest, org_slug: str, request_id: str, message_id: int
) -> HttpResponse:
    """One message's text, for staff with the permission; audited (message.reveal)."""
    org = get_object_or_404(Organization, slug=org_slug)
    form = ReasonForm(request.POST)
    context: dict[str, Any] = {"message_id": message_id, "org": org, "request_id": request_id}
    if not form.is_valid():
        context["reveal_error"] = first_error(form)
        return render(request, "adminpanel/trace.html#reveal", context, status=400)
    try:
        context["text"] = message_reveal(
            actor=request.user,
            org=org,
            request_id=request_id,
            message_id=message_id,
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied as error:
        context["reveal_error"] = str(error)
        return render(request, "adminpanel/trace.html#reveal", context, status=403)
    return render(request, "adminpanel/trace.html#reveal", context)


@staff_only
@require_GET
def audit_log_page(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    context: dict[str, Any] = {"section": "audit", "form": form}
    if form.is_valid():
        data = form.cleaned_data
        rows = audit_log_list(
            action=data["action"],
            actor_email=data["actor"],
            org_slug=data["org"],
            since=data["since"],
        )
        context["page"] = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        context["error"] = first_error(form)
    return _page(request, "adminpanel/audit.html", "audit-results", context)


@staff_only
@require_GET
def quality_matrix_page(request: StaffRequest) -> HttpResponse:
    """The confidence matrix as a heat map; `?cell=` opens the audits behind one cell."""
    detail = None
    if request.GET.get("cell", "").isdigit():
        detail = cell_detail(cell_id=int(request.GET["cell"]))
        if detail is None:
            raise Http404("No such cell.")
    context = {"section": "quality", "rows": heat_map(), "tasks": TASK_TYPES, "detail": detail}
    return _page(request, "adminpanel/quality.html", "cell-detail", context)
