from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import Membership, Organization, User


class OrgHttpRequest(HttpRequest):
    """A request after `CurrentOrganizationMiddleware` and django-htmx's middleware."""

    user: User
    org: Organization | None
    membership: Membership | None
    memberships: list[Membership]
    htmx: HtmxDetails
