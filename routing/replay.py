"""Replay a prompt log through routing with the simulator's quality model, in memory: what
auto mode costs and how good its answers are against always-premium and always-economy,
before and after a learning period of shadow audits.

Nothing is called or written. An answer is right when the simulator's model would get its
checkable part right (`simulator.quality`, the same draw the simulator makes over HTTP, by the
prompt's difficulty); an audit scores the answer with the simulator's judge against the
reference model's answer, as the live audits do, and the matrix is rebuilt with the live
rebuild's rule after each period. While it learns, auto mode explores as it does live (a drawn
share of requests in an undecided cell try a cheaper model, audited more often). Costs are the
catalog's prices on routing's token estimates.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from routing.learning import MIN_SAMPLES, Tally, cell_estimate, wilson
from routing.policy import EXPLORATION_AUDIT_RATE, QUALITY_MARGIN, estimate_output_tokens
from routing.preview import route_preview
from routing.types import (
    Catalog,
    CellEstimate,
    CellKey,
    ModelInfo,
    PrecheckInputs,
    RouteDecision,
)
from simulator.quality import (
    CANDIDATE_MARK,
    REFERENCE_MARK,
    answer_text,
    judge_text,
    model_right,
)

Quality = Mapping[str, Mapping[str, float]]  # model slug -> task type -> 0..1


@dataclass(frozen=True)
class Prompt:
    text: str
    task_type: str
    complexity: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class ModeResult:
    mode: str
    cost: Decimal  # USD over the whole log
    right: int  # answers right
    total: int

    @property
    def quality(self) -> float:
        """The share of answers right."""
        return self.right / max(self.total, 1)

    def interval(self) -> tuple[float, float]:
        """The quality's Wilson 95% interval."""
        return wilson(self.right, self.total)


@dataclass(frozen=True)
class Period:
    number: int
    audits: int
    escalations: tuple[CellKey, ...]
    auto: ModeResult  # auto mode on the matrix rebuilt after the period, without exploring
    explorations: int = 0  # requests that tried a cheaper model during the period
    served: ModeResult | None = None  # what the period's traffic cost and got, exploring


@dataclass(frozen=True)
class ReplayReport:
    prompts: int
    before: tuple[ModeResult, ...]
    after: tuple[ModeResult, ...]
    periods: tuple[Period, ...]
    cells: Mapping[CellKey, CellEstimate]
    # The best a matrix of these cells could do: per (task type, complexity), the cheapest
    # model whose true share right is within the margin of the reference's. Not reachable by
    # learning (it knows the truth), it bounds what learning could save at this granularity.
    oracle: ModeResult | None = None


def prompts_classify(texts: Sequence[str], base: PrecheckInputs) -> list[Prompt]:
    """Each prompt's task type, complexity and token estimates, as routing sees them
    (blocked prompts are left out: they never reach a model)."""
    prompts = []
    for text in texts:
        preview = route_preview(replace(base, prompt=text))
        if preview.decision is None or preview.decision.model is None:
            continue
        outcome = preview.outcome
        output = estimate_output_tokens(outcome.task_type, outcome.complexity, outcome.input_tokens)
        prompts.append(
            Prompt(text, outcome.task_type, outcome.complexity, outcome.input_tokens, output)
        )
    return prompts


def _right(model: str, prompt: Prompt, quality: Quality, hard: Quality) -> bool:
    return model_right(prompt.text, quality.get(model, {}), hard.get(model, {}))


def _audit_score(
    model: str, reference: str, prompt: Prompt, quality: Quality, hard: Quality
) -> float:
    """The simulator's judge on the model's answer against the reference model's."""
    answers = [
        answer_text(
            model=m,
            prompt=prompt.text,
            quality=quality.get(m, {}),
            quality_hard=hard.get(m, {}),
            length=60,
        )
        for m in (reference, model)
    ]
    rubric = f"{REFERENCE_MARK}\n{answers[0]}\n{CANDIDATE_MARK}\n{answers[1]}"
    return float(json.loads(judge_text(rubric))["score"])


class Replayer:
    def __init__(
        self,
        *,
        prompts: list[Prompt],
        base: PrecheckInputs,
        quality: Quality,
        reference: str,
        quality_hard: Quality | None = None,
    ) -> None:
        self.prompts, self.base, self.quality, self.reference = prompts, base, quality, reference
        self.hard: Quality = quality_hard or {}
        self.catalog: Catalog = base.catalog
        self.cells: dict[CellKey, CellEstimate] = {}  # the matrix the learning period built

    def _auto(
        self, prompt: Prompt, cells: Mapping[CellKey, CellEstimate], draw: float = 1.0
    ) -> RouteDecision:
        catalog = replace(self.catalog, cells=cells)
        inputs = replace(self.base, prompt=prompt.text, catalog=catalog, exploration_draw=draw)
        decision = route_preview(inputs).decision
        assert decision is not None and decision.model is not None  # noqa: S101 - classified
        return decision

    def _cost(self, slug: str, prompt: Prompt) -> Decimal:
        model = self.catalog.model(slug)
        assert model is not None  # noqa: S101 - routing chose it from this catalog
        return model.raw_cost(prompt.input_tokens, prompt.output_tokens)

    def mode(self, name: str, pick: str | Mapping[CellKey, CellEstimate]) -> ModeResult:
        """Cost and quality of one mode over the log: a fixed model, or auto with `pick`'s cells."""
        cost, right = Decimal(0), 0
        for prompt in self.prompts:
            slug = pick if isinstance(pick, str) else str(self._auto(prompt, pick).model)
            cost += self._cost(slug, prompt)
            right += _right(slug, prompt, self.quality, self.hard)
        return ModeResult(name, cost, right, len(self.prompts))

    def learn(self, *, periods: int, audit_rate: float, seed: int = 0) -> list[Period]:
        """Serve the log once per period in auto mode, exploring as live traffic does, and
        audit a sampled share of the non-reference answers (exploration answers at least at
        EXPLORATION_AUDIT_RATE); rebuild the matrix after each period."""
        rng = random.Random(seed)  # noqa: S311 - a reproducible sample
        tallies: dict[CellKey, Tally] = defaultdict(Tally)
        cells = self.cells
        history = []
        explore_rate = max(audit_rate, float(EXPLORATION_AUDIT_RATE))
        for number in range(1, periods + 1):
            audits = explorations = right = 0
            cost = Decimal(0)
            for prompt in self.prompts:
                decision = self._auto(prompt, cells, rng.random())
                slug = str(decision.model)
                explorations += decision.exploring
                cost += self._cost(slug, prompt)
                right += _right(slug, prompt, self.quality, self.hard)
                rate = explore_rate if decision.exploring else audit_rate
                if slug == self.reference or rng.random() >= rate:
                    continue
                score = _audit_score(slug, self.reference, prompt, self.quality, self.hard)
                tallies[(slug, prompt.task_type, prompt.complexity)].add(score, 1.0, audit=True)
                audits += 1
            escalated = self._rebuild(tallies, cells)
            served = ModeResult("auto (served)", cost, right, len(self.prompts))
            auto = self.mode("auto", dict(cells))
            history.append(Period(number, audits, escalated, auto, explorations, served))
        return history

    def oracle(self, margin: float) -> ModeResult:
        """Per cell, the cheapest model truly within `margin` of the reference, served there."""
        by_cell: dict[tuple[str, str], list[Prompt]] = defaultdict(list)
        for prompt in self.prompts:
            by_cell[(prompt.task_type, prompt.complexity)].append(prompt)
        models = sorted(self.catalog.models, key=lambda m: m.raw_cost(1000, 1000))
        cost, right = Decimal(0), 0
        for prompts in by_cell.values():
            share = {
                m.slug: sum(_right(m.slug, p, self.quality, self.hard) for p in prompts)
                for m in models
            }
            best = share[self.reference]
            slug = next(s for s, r in share.items() if r >= best - margin * len(prompts))
            cost += sum(self._cost(slug, p) for p in prompts)
            right += share[slug]
        return ModeResult("best matrix (oracle)", cost, right, len(self.prompts))

    @staticmethod
    def _rebuild(
        tallies: Mapping[CellKey, Tally], cells: dict[CellKey, CellEstimate]
    ) -> tuple[CellKey, ...]:
        escalated = []
        for key, tally in sorted(tallies.items()):
            if tally.weight < MIN_SAMPLES:
                continue
            was = cells.get(key, CellEstimate(0, 0, 0, 0, 1)).escalate
            cells[key] = cell_estimate(tally, key[2], was_escalated=was)
            if cells[key].escalate and not was:
                escalated.append(key)
        return tuple(escalated)


def replay_run(
    *,
    prompts: list[Prompt],
    base: PrecheckInputs,
    quality: Quality,
    premium: str,
    economy: str,
    periods: int,
    audit_rate: float,
    quality_hard: Quality | None = None,
) -> ReplayReport:
    replayer = Replayer(
        prompts=prompts, base=base, quality=quality, reference=premium, quality_hard=quality_hard
    )
    fixed = (replayer.mode("always premium", premium), replayer.mode("always economy", economy))
    before = (replayer.mode("auto", {}), *fixed)
    history = replayer.learn(periods=periods, audit_rate=audit_rate)
    final = history[-1].auto if history else before[0]
    return ReplayReport(
        prompts=len(prompts),
        before=before,
        after=(final, *fixed),
        periods=tuple(history),
        cells=dict(replayer.cells),
        oracle=replayer.oracle(QUALITY_MARGIN),
    )


def simulator_only(catalog: Catalog) -> Catalog:
    """The catalog's simulator models only: the replay's quality model knows no others."""
    models: tuple[ModelInfo, ...] = tuple(
        m for m in catalog.models if m.provider_kind == "simulator"
    )
    return replace(catalog, models=models, cells={}, escalations=frozenset())
