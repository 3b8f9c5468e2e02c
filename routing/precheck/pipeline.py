"""The precheck, top to bottom: normalize, shield, classify, filter, assistant, route.

Pure over its inputs (entitlement, catalog snapshot, rules), so the API, the chat pipeline
and the batch simulator run exactly the same steps; recording is the caller's job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from billing.types import Entitlement
from routing.assistants import assistant_pick
from routing.errors import InvalidRequest, NotInPlan
from routing.policy import MODES, route_select, rule_matches
from routing.precheck.categories import category_refusal, content_categories
from routing.precheck.classifier import Classification, classify
from routing.precheck.normalize import normalize
from routing.precheck.shield import scan
from routing.types import Catalog, PrecheckOutcome, RouteRequest, RuleInfo


def precheck_run(
    *,
    text: str,
    entitlement: Entitlement,
    catalog: Catalog,
    rules: Sequence[RuleInfo] = (),
    assistant: str | None = None,
    mode: str | None = None,
    has_images: bool = False,
    down_providers: frozenset[str] = frozenset(),
    model: str | None = None,
    context_tokens: int = 0,
) -> PrecheckOutcome:
    """Normalize, shield, classify, filter, pick the assistant and preview the route.

    Raises InvalidRequest / NotInPlan for bad input; a blocked prompt is an outcome, not an
    error, so the caller can record it before refusing. `context_tokens` counts what comes
    with the prompt (system prompt, history) for the context checks; `model` is an explicit
    model the caller asked for.
    """
    mode = _checked_mode(mode, entitlement)
    prompt = normalize(text)
    if not prompt.text:
        raise InvalidRequest("prompt: the prompt is empty", {"param": "prompt"})

    started = time.perf_counter_ns()
    verdict = scan(prompt)
    shield_us = (time.perf_counter_ns() - started) // 1000
    started = time.perf_counter_ns()
    labels = classify(prompt.text, has_images=has_images)
    classifier_us = (time.perf_counter_ns() - started) // 1000

    outcome = partial(
        PrecheckOutcome,
        prompt_sha256=prompt.sha256,
        task_type=labels.task_type,
        complexity=labels.complexity,
        language=labels.language,
        needs_images=labels.needs_images,
        input_tokens=labels.input_tokens,
        risk_level=verdict.risk_level,
        rule_ids=verdict.rule_ids,
        shield_us=shield_us,
        classifier_us=classifier_us,
    )
    if verdict.blocked:
        refusal = f"Prompt blocked by the security shield ({', '.join(verdict.categories)})."
        return outcome(
            risk_categories=verdict.categories,
            blocked=True,
            refusal=refusal,
            assistant=None,
            decision=None,
        )

    categories = content_categories(prompt.text)
    refused = category_refusal(
        categories=categories, needs_images=labels.needs_images, entitlement=entitlement
    )
    if refused:
        category, message = refused
        return outcome(
            risk_categories=(*verdict.categories, category),
            blocked=True,
            refusal=message,
            assistant=None,
            decision=None,
        )
    input_tokens = labels.input_tokens + context_tokens
    if input_tokens > entitlement.max_context:
        raise InvalidRequest(
            f"prompt: about {input_tokens:,} tokens, over the "
            f"{entitlement.plan_name} plan's max context of {entitlement.max_context:,}",
            {"param": "prompt"},
        )

    rule = _family_rule(rules, mode, labels, assistant)
    chosen = assistant_pick(
        task_type=labels.task_type,
        requested=assistant or (rule.target_family if rule else None),
        catalog=catalog,
        entitlement=entitlement,
    )
    request = RouteRequest(
        task_type=labels.task_type,
        complexity=labels.complexity,
        assistant=chosen.family,
        input_tokens=input_tokens,
        needs_images=labels.needs_images,
        language=labels.language,
        mode=mode,
        model=model,
    )
    decision = route_select(
        request=request,
        catalog=catalog,
        entitlement=entitlement,
        rules=rules,
        down_providers=down_providers,
    )
    return outcome(
        risk_categories=verdict.categories,
        blocked=False,
        refusal=None,
        assistant=chosen,
        decision=decision,
    )


def _checked_mode(mode: str | None, entitlement: Entitlement) -> str:
    mode = mode or "auto"
    if mode not in MODES:
        raise InvalidRequest(
            f"mode: unknown mode '{mode}'; choose one of {', '.join(MODES)}", {"param": "mode"}
        )
    if mode not in entitlement.modes:
        raise NotInPlan(
            f"The {mode} routing mode is not in the {entitlement.plan_name} plan.",
            {"param": "mode"},
        )
    return mode


def _family_rule(
    rules: Sequence[RuleInfo], mode: str, labels: Classification, assistant: str | None
) -> RuleInfo | None:
    """In custom mode, the first matching rule that moves the request to another family."""
    if mode != "custom" or assistant:
        return None
    probe = RouteRequest(
        task_type=labels.task_type,
        complexity=labels.complexity,
        assistant="",
        input_tokens=labels.input_tokens,
        needs_images=labels.needs_images,
        language=labels.language,
        mode=mode,
    )
    for rule in sorted(rules, key=lambda r: (r.organization_id is None, r.order, r.id)):
        if rule_matches(rule, probe):
            return rule if rule.target_family else None
    return None
