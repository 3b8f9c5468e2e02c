from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.selectors import membership_choose, membership_list

SESSION_KEY = "org_id"


class CurrentOrganizationMiddleware:
    """Sets `request.org` and `request.membership` for signed-in users.

    The current organisation is the one chosen in the session if the user still belongs to
    it, else their first. Nothing else finds the tenant: views pass `request.org` down.
    Async-capable, so async views (the chat API) stay on the event loop.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        # Django's own middleware keeps the same flag (MiddlewareMixin.async_mode).
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.async_mode:
            return self._acall(request)
        _attach(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:  # no session: no user to look up
            await sync_to_async(_attach)(request)
        else:
            _attach_anonymous(request)
        # In async mode get_response is a coroutine function (checked in __init__).
        return await cast(Awaitable[HttpResponse], self.get_response(request))


def _attach_anonymous(request: HttpRequest) -> None:
    request.org = None  # type: ignore[attr-defined]
    request.membership = None  # type: ignore[attr-defined]
    request.memberships = []  # type: ignore[attr-defined]


def _attach(request: HttpRequest) -> None:
    _attach_anonymous(request)
    if not request.user.is_authenticated:
        return
    memberships = list(membership_list(user=request.user))
    current = membership_choose(memberships, request.session.get(SESSION_KEY))
    if current is not None:
        request.org = current.organization  # type: ignore[attr-defined]
        request.membership = current  # type: ignore[attr-defined]
    request.memberships = memberships  # type: ignore[attr-defined]
