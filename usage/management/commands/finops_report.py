"""`manage.py finops_report --org SLUG --month YYYY-MM --out FILE`: the monthly FinOps PDF at
once, by the same code the Celery task runs (rollups brought up to date first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import ApplicationError
from accounts.models import Organization
from usage.services.reports import month_parse, monthly_report_render


class Command(BaseCommand):
    help = "Write an organisation's monthly FinOps report (PDF) to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--month", required=True, help="the month, YYYY-MM")
        parser.add_argument("--out", required=True, help="where to write the PDF")

    def handle(self, *args: Any, org: str, month: str, out: str, **options: Any) -> None:
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"--org: no organisation with slug '{org}'.")
        try:
            first = month_parse(month)
        except ApplicationError as error:
            raise CommandError(f"--{error.message}") from None
        pdf = monthly_report_render(org=organization, month=first)
        Path(out).write_bytes(pdf)
        self.stderr.write(f"Wrote {len(pdf):,} bytes: {organization.slug} {first:%Y-%m} -> {out}")
