from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.middleware import SESSION_KEY
from accounts.models import Organization
from accounts.selectors import api_key_list
from accounts.services import api_key_create, api_key_revoke
from accounts.types import OrgHttpRequest


def _current_org(request: OrgHttpRequest) -> Organization:
    if request.org is None:
        raise PermissionDenied("You are not a member of any organisation.")
    return request.org


@login_required
@require_POST
def organization_switch(request: OrgHttpRequest) -> HttpResponse:
    chosen = next(
        (m for m in request.memberships if str(m.organization_id) == request.POST.get("org")),
        None,
    )
    if chosen is None:
        messages.error(request, "You are not a member of that organisation.")
    else:
        request.session[SESSION_KEY] = chosen.organization_id
    return redirect("dashboard")


def _render_api_keys(request: OrgHttpRequest, **extra: object) -> HttpResponse:
    org = _current_org(request)
    template = "accounts/api_keys.html"
    if request.htmx:
        template += "#key-panel"
    api_base = request.build_absolute_uri("/v1")
    context = {"keys": api_key_list(org=org), "api_base": api_base, **extra}
    # A fragment with its error is a normal answer to htmx (200: the browser logs no failed
    # request); the page without JavaScript says 400.
    status = 400 if extra.get("error") and not request.htmx else 200
    return render(request, template, context, status=status)


@login_required
@require_GET
def api_key_list_page(request: OrgHttpRequest) -> HttpResponse:
    return _render_api_keys(request)


@login_required
@require_POST
def api_key_create_page(request: OrgHttpRequest) -> HttpResponse:
    try:
        new = api_key_create(
            org=_current_org(request), actor=request.user, name=request.POST.get("name", "")
        )
    except ValidationError as error:
        return _render_api_keys(request, error=error.message_dict["name"][0])
    return _render_api_keys(request, new_key=new)


@login_required
@require_POST
def api_key_revoke_page(request: OrgHttpRequest, key_id: int) -> HttpResponse:
    api_key_revoke(org=_current_org(request), actor=request.user, key_id=key_id)
    return _render_api_keys(request)
