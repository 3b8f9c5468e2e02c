"""The learning loop's arithmetic and its writes: verdicts, the confidence matrix rebuild with
its hysteresis, and user feedback on answers.

A cell is the evidence about one (model, task type, complexity) across every organisation:
shadow audits count 1 each, a thumbs up or down FEEDBACK_WEIGHT. The cell's poor rate has a
Wilson 95% interval; the cell escalates (auto mode moves on to a stronger model) when the
interval's low end is above the bar, and clears only when its high end is below it, so a
cell whose evidence sits on the bar keeps whatever state it had instead of flapping.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from routing.errors import InvalidRequest
from routing.models import (
    AIModel,
    AnswerFeedback,
    AuditVerdict,
    ConfidenceCell,
    ConfidenceChange,
    ShadowAudit,
)
from routing.policy import QUALITY_BAR
from routing.types import CellEstimate, CellKey

MIN_SAMPLES = 20  # a cell with less evidence is skipped by the rebuild
POOR_SCORE = 0.5  # a judged score below this is a poor answer
FEEDBACK_WEIGHT = 0.3  # one vote is worth this many audits
Z95 = 1.96


def verdict_of(score: float) -> str:
    return AuditVerdict.POOR if score < POOR_SCORE else AuditVerdict.PASS


def poor_rate_bar(complexity: str) -> float:
    """The poor rate a cell may have before it escalates: the share of answers allowed to
    miss the quality bar auto mode routes by (harder prompts tolerate fewer misses)."""
    return round(1 - QUALITY_BAR.get(complexity, QUALITY_BAR["medium"]), 2)


def wilson(poor: float, samples: float) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion (weighted counts are fine)."""
    if samples <= 0:
        return 0.0, 1.0
    p = poor / samples
    denominator = 1 + Z95**2 / samples
    centre = (p + Z95**2 / (2 * samples)) / denominator
    spread = Z95 * math.sqrt(p * (1 - p) / samples + Z95**2 / (4 * samples**2)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


@dataclass
class Tally:
    """Weighted evidence for one cell."""

    audits: int = 0
    feedback: int = 0
    weight: float = 0.0
    score_sum: float = 0.0
    poor: float = 0.0
    scores: list[float] = field(default_factory=list)

    def add(self, score: float, weight: float, *, audit: bool) -> None:
        self.audits += audit
        self.feedback += not audit
        self.weight += weight
        self.score_sum += score * weight
        self.poor += weight if score < POOR_SCORE else 0.0


def tallies_collect(*, since: datetime) -> dict[CellKey, Tally]:
    """Every organisation's judged audits and votes since `since`, per cell. This is platform
    evidence (scores and verdicts only, never answers), so it reads across tenants."""
    tallies: dict[CellKey, Tally] = defaultdict(Tally)
    audits = ShadowAudit.objects.filter(
        at__gte=since, verdict__in=[AuditVerdict.PASS, AuditVerdict.POOR]
    ).values_list("economy_model__slug", "task_type", "complexity", "score")
    for slug, task, complexity, score in audits:
        tallies[(slug, task, complexity)].add(score, 1.0, audit=True)
    votes = AnswerFeedback.objects.filter(at__gte=since).values_list(
        "model__slug", "task_type", "complexity", "helpful"
    )
    for slug, task, complexity, helpful in votes:
        tallies[(slug, task, complexity)].add(1.0 if helpful else 0.0, FEEDBACK_WEIGHT, audit=False)
    return tallies


@dataclass(frozen=True)
class RebuildResult:
    cells: int
    skipped: int
    escalated: tuple[CellKey, ...]
    cleared: tuple[CellKey, ...]


def confidence_matrix_rebuild(*, now: datetime | None = None) -> RebuildResult:
    """Recompute every cell with at least MIN_SAMPLES of evidence in the window; escalate or
    clear with hysteresis, logging each change with its evidence. Safe to run twice: a second
    run over the same evidence changes nothing."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.LEARNING_WINDOW_DAYS)
    models = dict(AIModel.objects.values_list("slug", "pk"))
    escalated: list[CellKey] = []
    cleared: list[CellKey] = []
    skipped = updated = 0
    for key, tally in sorted(tallies_collect(since=since).items()):
        if tally.weight < MIN_SAMPLES or key[0] not in models:
            skipped += 1
            continue
        changed = _cell_rebuild(key, tally, models[key[0]], now)
        updated += 1
        if changed is True:
            escalated.append(key)
        elif changed is False:
            cleared.append(key)
    return RebuildResult(updated, skipped, tuple(escalated), tuple(cleared))


def cell_estimate(tally: Tally, complexity: str, *, was_escalated: bool) -> CellEstimate:
    """The cell's figures and escalation from its evidence (hysteresis: escalate when the
    poor rate's interval is wholly above the bar, clear only when it is wholly below)."""
    low, high = wilson(tally.poor, tally.weight)
    bar = poor_rate_bar(complexity)
    return CellEstimate(
        samples=round(tally.weight, 2),
        mean_score=round(tally.score_sum / tally.weight, 4),
        poor_rate=round(tally.poor / tally.weight, 4),
        poor_low=round(low, 4),
        poor_high=round(high, 4),
        escalate=low > bar if not was_escalated else not high < bar,
    )


def _cell_rebuild(key: CellKey, tally: Tally, model_id: int, now: datetime) -> bool | None:
    """Write one cell; True when it escalated, False when it cleared, None when unchanged."""
    _, task, complexity = key
    bar = poor_rate_bar(complexity)
    with transaction.atomic():
        cell, _ = ConfidenceCell.objects.select_for_update().get_or_create(
            model_id=model_id, task_type=task, complexity=complexity
        )
        was = cell.escalate
        estimate = cell_estimate(tally, complexity, was_escalated=was)
        escalate = estimate.escalate
        cell.samples = estimate.samples
        cell.audits, cell.feedback = tally.audits, tally.feedback
        cell.mean_score, cell.poor_rate = estimate.mean_score, estimate.poor_rate
        cell.poor_low, cell.poor_high = estimate.poor_low, estimate.poor_high
        cell.escalate, cell.rebuilt_at = escalate, now
        cell.save()
        if escalate == was:
            return None
        ConfidenceChange.objects.create(
            cell=cell,
            escalate=escalate,
            evidence={
                "audits": tally.audits,
                "feedback": tally.feedback,
                "samples": cell.samples,
                "mean_score": cell.mean_score,
                "poor_rate": cell.poor_rate,
                "poor_ci": [cell.poor_low, cell.poor_high],
                "bar": bar,
                "rule": "low end above the bar" if escalate else "high end below the bar",
            },
        )
    return escalate


def answer_feedback_record(
    *,
    org: Organization,
    user: User | None,
    model_call_id: int,
    model_id: int,
    task_type: str,
    complexity: str,
    helpful: bool,
) -> AnswerFeedback:
    """Store a user's vote on one of their organisation's answers; a second vote on the same
    answer replaces the first (one per answer). The caller has checked the call is `org`'s."""
    if not task_type:
        raise InvalidRequest("completion: this answer has no task type to learn from")
    feedback, _ = AnswerFeedback.objects.update_or_create(
        organization=org,
        model_call_id=model_call_id,
        defaults={
            "user": user,
            "model_id": model_id,
            "task_type": task_type,
            "complexity": complexity or "medium",
            "helpful": helpful,
        },
    )
    return feedback
