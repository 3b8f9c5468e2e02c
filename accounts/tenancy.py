"""The one way to read tenant-owned rows: `Model.objects.for_org(org)`.

Every tenant-owned model inherits `TenantModel`; views, APIs, selectors and admin reach
its rows only through `for_org` or `get_for_org`, so one organisation never sees another's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from accounts.models import Organization

M = TypeVar("M", bound="TenantModel")


class TenantQuerySet(models.QuerySet[M]):
    def for_org(self, org: Organization) -> TenantQuerySet[M]:
        if org is None or org.pk is None:
            raise ValueError("for_org() needs a saved organization")
        return self.filter(organization=org)


class TenantModel(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects: Any = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def get_for_org(queryset: TenantQuerySet[M], *, org: Organization, pk: Any) -> M:
    """The row with this pk in this organisation, or 404 (never 403: do not reveal it exists)."""
    try:
        return queryset.for_org(org).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
