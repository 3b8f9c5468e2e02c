from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts.selectors import membership_list

SESSION_KEY = "org_id"


class CurrentOrganizationMiddleware:
    """Sets `request.org` and `request.membership` for signed-in users.

    The current organisation is the one chosen in the session if the user still belongs to
    it, else their first. Nothing else finds the tenant: views pass `request.org` down.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.org = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            memberships = list(membership_list(user=request.user))  # type: ignore[arg-type]
            chosen = request.session.get(SESSION_KEY)
            current = next((m for m in memberships if m.organization_id == chosen), None)
            current = current or (memberships[0] if memberships else None)
            if current is not None:
                request.org = current.organization  # type: ignore[attr-defined]
                request.membership = current  # type: ignore[attr-defined]
            request.memberships = memberships  # type: ignore[attr-defined]
        return self.get_response(request)
