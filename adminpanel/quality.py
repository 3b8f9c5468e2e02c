"""The confidence matrix as staff see it: a heat map of cells, and the audits and changes
behind one cell. Scores, verdicts and costs only: never a prompt or an answer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from routing.learning import MIN_SAMPLES, poor_rate_bar
from routing.models import AIModel, ConfidenceCell, ConfidenceChange, ShadowAudit
from routing.types import TASK_TYPES

COMPLEXITIES = ("low", "medium", "high")
AUDITS_SHOWN = 50


@dataclass(frozen=True)
class HeatCell:
    task_type: str
    cell: ConfidenceCell | None

    @property
    def hue(self) -> int:
        """Red (0) for a poor record to green (120) for a good one."""
        return round(120 * self.cell.mean_score) if self.cell else 0

    @property
    def thin(self) -> bool:
        return self.cell is None or self.cell.samples < MIN_SAMPLES


@dataclass(frozen=True)
class HeatRow:
    model: AIModel
    complexity: str
    cells: tuple[HeatCell, ...]


def heat_map() -> list[HeatRow]:
    """One row per (model, complexity) that has any cell, one column per task type."""
    cells = {
        (c.model_id, c.complexity, c.task_type): c
        for c in ConfidenceCell.objects.select_related("model")
    }
    keys = sorted({(m, x) for m, x, _ in cells}, key=lambda k: (k[0], COMPLEXITIES.index(k[1])))
    models = AIModel.objects.in_bulk([m for m, _ in keys])
    return [
        HeatRow(
            models[model_id],
            complexity,
            tuple(HeatCell(t, cells.get((model_id, complexity, t))) for t in TASK_TYPES),
        )
        for model_id, complexity in keys
    ]


@dataclass(frozen=True)
class CellDetail:
    cell: ConfidenceCell
    bar: float
    audits: QuerySet[ShadowAudit]
    changes: QuerySet[ConfidenceChange]


def cell_detail(*, cell_id: int) -> CellDetail | None:
    """The audits behind one cell (newest first, across organisations) and its changes."""
    cell = ConfidenceCell.objects.select_related("model").filter(pk=cell_id).first()
    if cell is None:
        return None
    audits = (
        ShadowAudit.objects.filter(
            economy_model=cell.model, task_type=cell.task_type, complexity=cell.complexity
        )
        .select_related("organization", "reference_model", "model_call")
        .defer("reference_answer")
        .order_by("-at")[:AUDITS_SHOWN]
    )
    return CellDetail(cell, poor_rate_bar(cell.complexity), audits, cell.changes.all()[:20])
