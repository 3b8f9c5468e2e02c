"""`manage.py seed_demo`: the demo organisation on Pro, its owner, and a platform staff account.

Idempotent: a second run finds every row in place and writes nothing, in particular it
grants no second month of credits. Needs the catalog (`manage.py seed_catalog`) first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Membership, Organization, Role, User
from accounts.services import organization_create
from billing.models import Plan, Subscription
from billing.periods import subscription_start
from billing.selectors import subscription_get_live

DEMO_ORG_NAME = "Demo Org"
DEMO_PLAN_SLUG = "pro"
ADMIN_EMAIL = "admin@switchboard.local"
# The documented, public demo default; set DEMO_PASSWORD anywhere the demo is reachable.
DEFAULT_DEMO_PASSWORD = "switchboard-demo"  # noqa: S105


@dataclass(frozen=True)
class DemoSeedResult:
    org: Organization
    user: User
    admin: User
    subscription: Subscription
    credits_granted: bool


def user_ensure(*, email: str, password: str, superuser: bool = False) -> User:
    """The user with `email` (created if missing) holding `password` and a verified address.

    Writes only fields that differ, so running it again changes nothing.
    """
    user = User.objects.filter(email__iexact=email).first() or User(username=email, email=email)
    dirty = user.pk is None
    if not user.check_password(password):
        user.set_password(password)
        dirty = True
    if superuser and not (user.is_staff and user.is_superuser and user.is_active):
        user.is_staff = user.is_superuser = user.is_active = True
        dirty = True
    if dirty:
        user.save()
    email_address_ensure_verified(user=user, email=user.email)
    return user


def email_address_ensure_verified(*, user: User, email: str) -> EmailAddress:
    """allauth's record of `email`, verified and primary, so login never asks to confirm it."""
    address, created = EmailAddress.objects.get_or_create(
        user=user, email__iexact=email, defaults={"email": email, "verified": True, "primary": True}
    )
    if not created and not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    return address


def demo_org_ensure(*, owner: User) -> Organization:
    """The organisation at DEMO_ORG_SLUG, locked for this transaction, with `owner` as owner."""
    org = Organization.objects.select_for_update().filter(slug=settings.DEMO_ORG_SLUG).first()
    if org is None:
        return organization_create(name=DEMO_ORG_NAME, owner=owner, slug=settings.DEMO_ORG_SLUG)
    membership, _ = Membership.objects.get_or_create(
        organization=org, user=owner, defaults={"role": Role.OWNER}
    )
    if membership.role != Role.OWNER:
        membership.role = Role.OWNER
        membership.save(update_fields=["role"])
    return org


def demo_seed(*, password: str) -> DemoSeedResult:
    """Create whatever of the demo is missing; credits are granted only with a new subscription."""
    plan = Plan.objects.filter(slug=DEMO_PLAN_SLUG).first()
    if plan is None:
        raise CommandError(
            f"No '{DEMO_PLAN_SLUG}' plan: run `manage.py seed_catalog` before seed_demo."
        )
    with transaction.atomic():
        user = user_ensure(email=settings.DEMO_USER_EMAIL, password=password)
        admin = user_ensure(email=ADMIN_EMAIL, password=password, superuser=True)
        # The org row lock serialises concurrent runs, so only one can start the subscription.
        org = demo_org_ensure(owner=user)
        subscription = subscription_get_live(org=org)
        credits_granted = subscription is None
        if subscription is None:
            subscription = subscription_start(org=org, plan=plan, user=user)
    return DemoSeedResult(
        org=org,
        user=user,
        admin=admin,
        subscription=subscription,
        credits_granted=credits_granted,
    )


class Command(BaseCommand):
    help = "Create the demo organisation (Pro plan), its owner and a staff superuser (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
        result = demo_seed(password=password)
        if options["verbosity"] == 0:
            return
        plan = result.subscription.plan
        grant = (
            f"granted {plan.monthly_credits:,.0f} credits"
            if result.credits_granted
            else "already subscribed, no new credits"
        )
        self.stdout.write(f"{result.org.name} ({result.org.slug}) on the {plan.name} plan: {grant}")
        self.stdout.write(f"Log in at {settings.SITE_URL.rstrip('/')}/accounts/login/")
        self.stdout.write(f"  demo owner:  {result.user.email} / {password}")
        self.stdout.write(f"  staff admin: {result.admin.email} / {password}")
