"""What a sign-up creates: the user, their own organisation, and a Free subscription."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.services import organization_create
from billing.periods import plan_get_default, subscription_start


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            workspace = user.email.split("@")[0] or "My"
            org = organization_create(name=f"{workspace}'s workspace", owner=user)
            subscription_start(org=org, plan=plan_get_default(), user=user)
        return user
