"""The confidence matrix: small cells skipped, a poor cell escalated and cleared again with
hysteresis, every change logged with its evidence, and feedback moving a cell."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from routing.learning import (
    FEEDBACK_WEIGHT,
    MIN_SAMPLES,
    confidence_matrix_rebuild,
    poor_rate_bar,
    wilson,
)
from routing.models import AIModel, AnswerFeedback, ConfidenceCell, ConfidenceChange
from routing.selectors import catalog_get
from tests.routing.factories import ShadowAuditFactory
from tests.usage.factories import ModelCallFactory

pytestmark = pytest.mark.django_db


def audits(model: AIModel, *, good: int, poor: int, task: str = "math", at=None) -> None:
    reference = AIModel.objects.get(slug="sim/frontier")
    for score in [0.95] * good + [0.1] * poor:
        audit = ShadowAuditFactory(
            model_call=ModelCallFactory(model=model, task_type=task),
            economy_model=model,
            reference_model=reference,
            task_type=task,
            complexity="medium",
            score=score,
            verdict="pass" if score >= 0.5 else "poor",
        )
        if at is not None:
            type(audit).objects.filter(pk=audit.pk).update(at=at)


def cell(model: AIModel, task: str = "math") -> ConfidenceCell:
    return ConfidenceCell.objects.get(model=model, task_type=task, complexity="medium")


@pytest.fixture
def economy() -> AIModel:
    return AIModel.objects.get(slug="sim/economy")


def test_a_cell_with_fewer_than_20_samples_is_skipped(economy: AIModel) -> None:
    audits(economy, good=0, poor=MIN_SAMPLES - 1)

    result = confidence_matrix_rebuild()

    assert result.skipped == 1 and result.cells == 0
    assert not ConfidenceCell.objects.filter(model=economy).exists()


def test_a_poor_cell_escalates_with_its_evidence_and_only_for_that_task(economy: AIModel) -> None:
    audits(economy, good=5, poor=20, task="math")
    audits(economy, good=25, poor=0, task="summarization")

    result = confidence_matrix_rebuild()

    math = cell(economy, "math")
    assert result.escalated == (("sim/economy", "math", "medium"),)
    assert math.escalate and math.samples == 25 and math.poor_rate == pytest.approx(0.8)
    assert math.poor_low > poor_rate_bar("medium")
    assert not cell(economy, "summarization").escalate
    change = ConfidenceChange.objects.get(cell=math)
    assert change.escalate and change.evidence["audits"] == 25
    assert change.evidence["poor_ci"] == [math.poor_low, math.poor_high]
    escalated = catalog_get().cells[("sim/economy", "math", "medium")]
    assert escalated.escalate


def test_a_second_rebuild_on_the_same_evidence_logs_nothing_new(economy: AIModel) -> None:
    audits(economy, good=5, poor=20)
    confidence_matrix_rebuild()

    again = confidence_matrix_rebuild()

    assert again.escalated == () and again.cleared == ()
    assert ConfidenceChange.objects.count() == 1


def test_an_escalated_cell_clears_on_new_evidence_but_not_while_it_sits_on_the_bar(
    economy: AIModel,
) -> None:
    audits(economy, good=5, poor=20)
    confidence_matrix_rebuild()
    audits(economy, good=25, poor=0)  # 20 poor of 50: the interval still spans the bar

    middle = confidence_matrix_rebuild()

    low, high = cell(economy).poor_low, cell(economy).poor_high
    assert low < poor_rate_bar("medium") < high
    assert middle.cleared == () and cell(economy).escalate  # hysteresis: no flap
    audits(economy, good=150, poor=0)

    recovered = confidence_matrix_rebuild()

    assert recovered.cleared == (("sim/economy", "math", "medium"),)
    assert not cell(economy).escalate
    assert ConfidenceChange.objects.filter(escalate=False).get().evidence["rule"] == (
        "high end below the bar"
    )


def test_evidence_older_than_the_window_is_ignored(economy: AIModel, settings) -> None:
    settings.LEARNING_WINDOW_DAYS = 7
    audits(economy, good=0, poor=30, at=timezone.now() - timedelta(days=8))

    result = confidence_matrix_rebuild()

    assert result.cells == 0


def test_feedback_moves_the_cell_weighted_below_audits(economy: AIModel) -> None:
    audits(economy, good=20, poor=0)
    confidence_matrix_rebuild()
    before = cell(economy)
    for _ in range(10):
        call = ModelCallFactory(model=economy, task_type="math")
        AnswerFeedback.objects.create(
            organization=call.organization,
            model_call=call,
            model=economy,
            task_type="math",
            complexity="medium",
            helpful=False,
        )

    confidence_matrix_rebuild()

    after = cell(economy)
    assert after.feedback == 10 and after.audits == 20
    assert after.samples == pytest.approx(20 + 10 * FEEDBACK_WEIGHT)
    assert after.mean_score < before.mean_score
    assert after.poor_rate == pytest.approx(3 / 23, abs=1e-4)


def test_wilson_interval_narrows_with_samples() -> None:
    few, many = wilson(2, 10), wilson(20, 100)

    assert few[0] < 0.2 < few[1] and many[0] < 0.2 < many[1]
    assert many[1] - many[0] < few[1] - few[0]
