"""Probe the semantic cache with pairs: JSONL {"id", "a", "b"} in, one result per pair out."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.cache.probe import ProbeLineError, cache_probe


class Command(BaseCommand):
    help = (
        'Read JSONL {"id", "a", "b"} (a file or stdin); store each a in a scratch '
        "organisation's cache as if answered, look up b, and write "
        '{"id", "hit", "similarity", "guard"} per pair. The scratch entries are removed.'
    )

    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="JSONL file (default: stdin)")
        parser.add_argument("--threshold", type=float, help="cosine threshold (default: setting)")
        parser.add_argument("--no-guards", action="store_true", help="serve past the guards")
        parser.add_argument(
            "--verifier",
            choices=("on", "off"),
            help="the second-stage verifier under the threshold (default: setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        threshold = options["threshold"]
        if threshold is not None and not 0 < threshold <= 1:
            raise CommandError("--threshold: a number above 0 and at most 1")
        guards = False if options["no_guards"] else None
        verifier = None if options["verifier"] is None else options["verifier"] == "on"
        try:
            stdin = options.get("stdin") or sys.stdin
            with open(options["path"]) if options["path"] else stdin as lines:  # noqa: SIM115
                for row in cache_probe(
                    lines, threshold=threshold, guards=guards, verifier=verifier
                ):
                    self.stdout.write(json.dumps(row, ensure_ascii=False))
        except FileNotFoundError:
            raise CommandError(f"path: no file {options['path']}") from None
        except ProbeLineError as error:
            raise CommandError(str(error)) from None
