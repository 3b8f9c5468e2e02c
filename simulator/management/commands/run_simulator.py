"""`manage.py run_simulator`: serve the provider simulator (OpenAI- and Anthropic-compatible).

The simulator itself never touches Django; this command only parses options and serves it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.app import create_app
from simulator.config import ConfigError, config_demo, config_fast, config_load


class Command(BaseCommand):
    help = "Serve the provider simulator: OpenAI- and Anthropic-compatible, with failure modes."
    # Nothing here reads the database; skipping checks keeps start-up fast.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument(
            "--host", default="127.0.0.1", help="The /_sim control endpoints are for local use."
        )
        parser.add_argument("--config", type=Path, help="JSON file with per-model behaviour.")
        parser.add_argument(
            "--api-key", help="Require this key (default: env SIMULATOR_API_KEY; none if unset)."
        )
        parser.add_argument("--fast", action="store_true", help="Zero latency for every model.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = config_load(options["config"]) if options["config"] else config_demo()
        except ConfigError as error:
            raise CommandError(str(error)) from error
        if options["fast"]:
            config = config_fast(config)
        api_key = options["api_key"] or os.environ.get("SIMULATOR_API_KEY") or None
        host, port = options["host"], options["port"]
        shown_host = f"[{host}]" if ":" in host else host

        def ready() -> None:
            auth = "an API key" if api_key else "no API key"
            self.stdout.write(f"Provider simulator at http://{shown_host}:{port}/v1 ({auth})")
            self.stdout.flush()

        # Imported here because daphne installs Twisted's reactor as a side effect of import.
        from simulator.serve import serve

        serve(create_app(config, api_key), host=host, port=port, ready=ready)
