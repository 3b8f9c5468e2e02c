"""`manage.py seed_catalog`: write the platform catalog and plans. Safe to run on every deploy."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.catalog import plans_seed
from routing.catalog import catalog_seed


class Command(BaseCommand):
    help = "Create or update providers, models, assistant families and plans (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        catalog = catalog_seed()
        plans = plans_seed()
        if options["verbosity"] > 0:
            total = catalog.total + plans
            self.stdout.write(
                f"Catalog seeded: {total} (providers {catalog.providers}; models "
                f"{catalog.models}; assistants {catalog.assistants}; plans {plans})"
            )
