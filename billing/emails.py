"""The e-mails billing sends: plan decisions, checkout links and budget warnings.

Each is sent after the transaction that caused it commits, so a rolled-back decision never
mails anyone. Bodies are plain-text templates under templates/billing/email/.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from accounts.models import Membership, Organization, Role


def email_on_commit(*, to: Iterable[str], subject: str, template: str, **context: Any) -> None:
    """Send `template` to `to` once the current transaction commits (at once outside one)."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    body = render_to_string(
        f"billing/email/{template}.txt", {"site_url": settings.SITE_URL, **context}
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients))


def manager_emails(org: Organization) -> list[str]:
    """The owners' and admins' addresses: who hears about money."""
    return list(
        Membership.objects.for_org(org)
        .filter(role__in=[Role.OWNER, Role.ADMIN])
        .values_list("user__email", flat=True)
    )


def owner_emails(org: Organization) -> list[str]:
    return list(
        Membership.objects.for_org(org)
        .filter(role=Role.OWNER)
        .values_list("user__email", flat=True)
    )
