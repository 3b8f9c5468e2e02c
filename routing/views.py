"""The organisation's own settings pages under /app/ that routing owns: the answer cache."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.models import Organization
from accounts.types import OrgHttpRequest
from routing.cache.entries import cache_enabled_for, cache_policy_set_by_member


def _current_org(request: OrgHttpRequest) -> Organization:
    if request.org is None:
        raise PermissionDenied("You are not a member of any organisation.")
    return request.org


@login_required
@require_http_methods(["GET", "POST"])
def org_cache_page(request: OrgHttpRequest) -> HttpResponse:
    """GET shows the organisation's answer-cache choice; POST (owners and admins) sets it."""
    org = _current_org(request)
    changed = False
    if request.method == "POST":
        enabled = request.POST.get("enabled") == "on"
        cache_policy_set_by_member(org=org, actor=request.user, enabled=enabled)
        changed = True
    template = "routing/org_cache.html" + ("#cache-panel" if request.htmx else "")
    context = {"cache_enabled": cache_enabled_for(org=org), "changed": changed}
    return render(request, template, context)
