"""`manage.py create_api_key`: a new API key for an owner or admin, printed once on stdout.

Only the secret goes to stdout, so `KEY=$(manage.py create_api_key ...)` captures it cleanly;
the note about what was created goes to stderr.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization, User
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an owner or admin of an organisation and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--org", default=settings.DEMO_ORG_SLUG, help="organisation slug (default: the demo)"
        )
        parser.add_argument(
            "--user", default=settings.DEMO_USER_EMAIL, help="email of an owner or admin"
        )
        parser.add_argument("--name", default="cli", help="a name to recognise the key by")

    def handle(self, *args: Any, org: str, user: str, name: str, **options: Any) -> None:
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"--org: no organisation with slug '{org}'.")
        actor = User.objects.filter(email__iexact=user).first()
        if actor is None:
            raise CommandError(f"--user: no user with email '{user}'.")
        try:
            new = api_key_create(org=organization, actor=actor, name=name)
        except PermissionDenied:
            raise CommandError(
                f"--user: {actor.email} is not an owner or admin of '{organization.slug}'."
            ) from None
        except ValidationError as exc:
            raise CommandError(f"--name: {' '.join(exc.messages)}") from None
        self.stdout.write(new.secret)
        self.stderr.write(
            f"Created key '{new.key.name}' ({new.key.prefix}…) for {actor.email} in "
            f"{organization.slug}; the secret above is shown only once.",
            style_func=self.style.SUCCESS,  # stderr is styled as an error by default
        )
