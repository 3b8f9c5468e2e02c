"""The precheck, top to bottom: normalize, shield, category filter, classify.

Pure over its inputs, so the chat pipeline, its previews and the batch simulator run exactly
the same steps; recording is the caller's job, and routing comes after (`routing.preview`).
"""

from __future__ import annotations

import time
from functools import partial

from billing.types import Entitlement
from routing.errors import InvalidRequest
from routing.precheck.categories import category_refusal, content_categories
from routing.precheck.classifier import classify, load_model
from routing.precheck.normalize import normalize
from routing.precheck.shield import scan
from routing.precheck.shield.detector import load_detector
from routing.types import PrecheckOutcome


def precheck_warm_up() -> None:
    """Read the classifier's and the detector's artifacts now (about 0.1 s), so the first
    prompt of a process does not pay for it."""
    load_model()
    load_detector()


def precheck_run(
    *, text: str, entitlement: Entitlement, has_images: bool = False
) -> PrecheckOutcome:
    """Labels and risk of one prompt. Raises InvalidRequest when there is nothing to check;
    a blocked prompt is an outcome, not an error, so the caller can record it first."""
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
        detector_score=verdict.detector_score,
    )
    if verdict.blocked:
        refusal = f"Prompt blocked by the security shield ({', '.join(verdict.categories)})."
        return outcome(risk_categories=verdict.categories, blocked=True, refusal=refusal)
    refused = category_refusal(
        categories=content_categories(prompt.text),
        needs_images=labels.needs_images,
        entitlement=entitlement,
    )
    if refused:
        category, message = refused
        categories = (*verdict.categories, category)
        return outcome(risk_categories=categories, blocked=True, refusal=message)
    return outcome(risk_categories=verdict.categories, blocked=False, refusal=None)
