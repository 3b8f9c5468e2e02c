"""Preview routing on a log of prompts: JSONL in on stdin, one JSONL decision out per line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import ApplicationError
from accounts.models import Organization, User
from accounts.selectors import membership_get
from billing.selectors import entitlement_get
from routing.policy import MODES
from routing.preview import route_preview
from routing.replay import prompts_classify, replay_run, simulator_only
from routing.replay_report import convergence_svg, replay_markdown
from routing.selectors import catalog_get, routing_rule_list
from routing.services import prompt_check_record
from routing.types import PrecheckInputs, RoutePreview
from simulator.config import ConfigError, config_demo, config_load


def simulation_row(row_id: Any, preview: RoutePreview) -> dict[str, Any]:
    outcome, assistant, decision = preview.outcome, preview.assistant, preview.decision
    return {
        "id": row_id,
        "blocked": outcome.blocked,
        "risk_level": outcome.risk_level,
        "risk_categories": list(outcome.risk_categories),
        "rule_ids": list(outcome.rule_ids),
        "detector_score": outcome.detector_score,
        "task_type": outcome.task_type,
        "complexity": outcome.complexity,
        "language": outcome.language,
        "input_tokens": outcome.input_tokens,
        "assistant": assistant.family if assistant else None,
        "model": decision.model if decision else None,
        "fallbacks": list(decision.fallbacks) if decision else [],
        "est_credits": str(decision.est_credits) if decision else "0",
        "est_cost_raw": str(decision.est_cost_raw) if decision else "0",
        "reasons": _reasons(preview),
        "shield_us": outcome.shield_us,
        "classifier_us": outcome.classifier_us,
    }


def _reasons(preview: RoutePreview) -> list[str]:
    if preview.outcome.blocked:
        return [str(preview.outcome.refusal)]
    reasons = [f"assistant: {preview.assistant.reason}"] if preview.assistant else []
    if preview.decision:
        reasons.append(f"model: {preview.decision.reason}")
        reasons += [f"excluded {e.model}: {e.reason}" for e in preview.decision.exclusions]
    return reasons


def _prompt_of(line: str) -> str | None:
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        return None
    prompt = item.get("prompt") if isinstance(item, dict) else None
    return prompt if isinstance(prompt, str) and prompt.strip() else None


def simulate_line(
    line: str, default_id: str, run: Callable[[str, str | None], RoutePreview]
) -> tuple[Any, RoutePreview | str]:
    """(id, preview), or (id, error message) for a line that cannot be simulated."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        return default_id, f"malformed JSON: {error.msg} at column {error.colno}"
    if not isinstance(item, dict):
        return default_id, "each line must be a JSON object"
    row_id = item.get("id", default_id)
    prompt = item.get("prompt")
    if not isinstance(prompt, str):
        return row_id, "prompt: a string is required"
    try:
        return row_id, run(prompt, item.get("assistant") or None)
    except ApplicationError as error:
        return row_id, error.message


class Command(BaseCommand):
    help = (
        "Read JSONL {'id', 'prompt'} lines on stdin and write one JSONL routing decision per "
        "line, in order, as the given organisation and user would get it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default=settings.DEMO_ORG_SLUG, help="organisation slug")
        parser.add_argument("--user", default=settings.DEMO_USER_EMAIL, help="member's email")
        parser.add_argument("--mode", choices=MODES, default=None, help="routing mode")
        parser.add_argument("--record", action="store_true", help="store PromptCheck rows")
        replay = parser.add_argument_group("replay (--replay)")
        replay.add_argument(
            "--replay",
            action="store_true",
            help="replay the log with the simulator's quality model: cost and quality of auto "
            "mode against always-premium and always-economy, before and after learning",
        )
        replay.add_argument("--periods", type=int, default=8, help="learning periods")
        replay.add_argument("--audit-rate", type=float, default=0.05, help="share audited")
        replay.add_argument("--sim-config", type=Path, help="simulator config JSON (quality)")
        replay.add_argument("--premium", default="sim/frontier", help="the reference model")
        replay.add_argument("--economy", default="sim/economy")
        replay.add_argument("--figure", type=Path, help="write the convergence curve (SVG)")
        replay.add_argument(
            "--quality-bar",
            choices=("relative", "absolute"),
            default=None,
            help="auto mode's bar (default: settings.AUTO_QUALITY_BAR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["replay"]:
            self._replay(options)
            return
        org, user = self._tenant(options["org"], options["user"])
        # A simulation of a log: no conversation history, and every provider counted healthy.
        base = PrecheckInputs(
            prompt="",
            entitlement=entitlement_get(org=org, user=user),
            catalog=catalog_get(),
            rules=routing_rule_list(org=org),
            mode=options["mode"],
        )

        def run(prompt: str, assistant: str | None) -> RoutePreview:
            return route_preview(replace(base, prompt=prompt, assistant=assistant))

        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            row_id, result = simulate_line(line, f"line-{number}", run)
            if isinstance(result, str):
                self.stdout.write(json.dumps({"id": row_id, "error": result}))
                continue
            if options["record"]:
                prompt_check_record(org=org, user=user, preview=result)
            self.stdout.write(json.dumps(simulation_row(row_id, result), ensure_ascii=False))

    def _replay(self, options: dict[str, Any]) -> None:
        if options["periods"] < 1 or not 0 < options["audit_rate"] <= 1:
            raise CommandError("--periods must be >= 1 and --audit-rate between 0 and 1")
        org, user = self._tenant(options["org"], options["user"])
        try:
            config = config_load(options["sim_config"]) if options["sim_config"] else config_demo()
        except ConfigError as error:
            raise CommandError(f"--sim-config: {error}") from error
        quality = {name: dict(b.quality) for name, b in config.models.items()}
        quality_hard = {name: dict(b.quality_hard) for name, b in config.models.items()}
        base = PrecheckInputs(
            prompt="",
            entitlement=entitlement_get(org=org, user=user),
            catalog=replace(
                simulator_only(catalog_get()),
                quality_bar=options["quality_bar"] or settings.AUTO_QUALITY_BAR,
            ),
            mode="auto",
        )
        for slug in (options["premium"], options["economy"]):
            if base.catalog.model(slug) is None:
                raise CommandError(f"no active simulator model '{slug}'")
        texts = [p for p in (_prompt_of(line) for line in sys.stdin) if p]
        report = replay_run(
            prompts=prompts_classify(texts, base),
            base=base,
            quality=quality,
            quality_hard=quality_hard,
            premium=options["premium"],
            economy=options["economy"],
            periods=options["periods"],
            audit_rate=options["audit_rate"],
        )
        self.stdout.write(replay_markdown(report))
        if options["figure"]:
            options["figure"].write_text(convergence_svg(report))

    def _tenant(self, slug: str, email: str) -> tuple[Organization, User]:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"--org: no organisation '{slug}' (run `manage.py seed_demo`?)")
        user = User.objects.filter(email__iexact=email).first()
        if user is None or membership_get(org=org, user=user) is None:
            raise CommandError(f"--user: {email} is not a member of {slug}")
        return org, user
