"""The policy engine: from a classified request to a ranked, explained choice of model.

Pure functions over a catalog snapshot and an entitlement, so the chat pipeline, the
precheck API and the batch simulator all decide the same way, without touching the DB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict

from billing.types import Entitlement
from routing.errors import InvalidRequest, NotInPlan
from routing.types import (
    AssistantChoice,
    Catalog,
    CellEstimate,
    Exclusion,
    ExclusionCode,
    ModelInfo,
    PrecheckInputs,
    PrecheckOutcome,
    RefusalCode,
    RouteDecision,
    RouteRequest,
    RuleInfo,
)

MODES = ("auto", "cost", "speed", "quality", "custom")
# The absolute quality a cell must keep: below it (its poor rate confidently above 1 - bar) the
# cell escalates (routing/learning.py).
QUALITY_BAR = {"low": 0.55, "medium": 0.70, "high": 0.82}
# Auto mode's bar is relative: the cheapest model not worse than the strongest candidate by more
# than this share of answers, on the evidence (the 95% upper bound of how often its answer is
# worse than the reference's) or, before any, by the catalog's priors.
QUALITY_MARGIN = 0.05
# Exploration: this share of auto requests whose cell has a cheaper model still undecided try
# that model, so the matrix learns about models auto would not otherwise send traffic to. A
# cell is decided once its evidence accepts or rejects the model, or holds this many samples.
EXPLORATION_RATE = 0.10
EXPLORATION_MAX_SAMPLES = 400.0
# An exploration answer is audited at least this often (the plan's rate if higher).
EXPLORATION_AUDIT_RATE = Decimal("0.5")
# How many samples a catalog prior is worth against the confidence matrix's evidence.
PRIOR_WEIGHT = 10.0
LATENCY_RANK = {"fast": 0, "standard": 1, "slow": 2}
MAX_FALLBACKS = 3
DOWN_STATUSES = {"down", "disabled"}

# Typical answer length per task type (tokens), scaled by complexity; only an estimate
# for budget checks and previews, reconciled with real usage after the call.
OUTPUT_TOKENS = {
    "coding": 600,
    "math": 350,
    "reasoning": 450,
    "summarization": 250,
    "translation": 0,  # as long as the input
    "creative_writing": 700,
    "extraction": 200,
    "classification": 40,
    "chat": 150,
    "question_answering": 300,
}
COMPLEXITY_FACTOR = {"low": Decimal("0.5"), "medium": Decimal("1"), "high": Decimal("2")}


def estimate_output_tokens(task_type: str, complexity: str, input_tokens: int) -> int:
    base = OUTPUT_TOKENS.get(task_type, 300) or max(input_tokens, 50)
    return int(base * COMPLEXITY_FACTOR.get(complexity, Decimal("1")))


def _k(tokens: int) -> str:
    return f"{tokens / 1_000_000:.1f}M" if tokens >= 1_000_000 else f"{round(tokens / 1000)}k"


def _quality(model: ModelInfo, task_type: str) -> float:
    return model.quality.get(task_type, 0.5)


def _cell(catalog: Catalog, model: ModelInfo, request: RouteRequest) -> CellEstimate | None:
    return catalog.cells.get((model.slug, request.task_type, request.complexity))


def estimated_quality(catalog: Catalog, model: ModelInfo, request: RouteRequest) -> float:
    """The posterior quality of `model` for this task type and complexity: its catalog
    prior, worth PRIOR_WEIGHT samples, moved by the confidence matrix's evidence."""
    prior = _quality(model, request.task_type)
    cell = _cell(catalog, model, request)
    if cell is None or cell.samples <= 0:
        return prior
    return (prior * PRIOR_WEIGHT + cell.mean_score * cell.samples) / (PRIOR_WEIGHT + cell.samples)


def _escalated(catalog: Catalog, model: ModelInfo, request: RouteRequest) -> bool:
    cell = _cell(catalog, model, request)
    return (model.slug, request.task_type) in catalog.escalations or bool(cell and cell.escalate)


def _exclusion(
    model: ModelInfo,
    *,
    request: RouteRequest,
    output_tokens: int,
    entitlement: Entitlement,
    catalog: Catalog,
    down_providers: frozenset[str],
) -> Exclusion | None:
    """Why `model` cannot serve this request, or None when it is a candidate."""
    needed = request.input_tokens + output_tokens
    code, reason = None, ""
    if not entitlement.allows_model(model.slug):
        code, reason = ExclusionCode.NOT_IN_PLAN, f"not in plan {entitlement.plan_name}"
    elif model.provider_status in DOWN_STATUSES or model.provider in down_providers:
        code, reason = ExclusionCode.PROVIDER_DOWN, "provider down"
    elif not model.key_configured:
        code, reason = ExclusionCode.NO_KEY, f"no API key configured ({model.key_env} is not set)"
    elif request.needs_images and not model.supports_images:
        code, reason = ExclusionCode.NO_IMAGES, "no image input"
    elif model.context_window < needed:
        code = ExclusionCode.CONTEXT
        reason = f"context {_k(model.context_window)} < needed {_k(needed)}"
    elif request.mode == "auto" and _escalated(catalog, model, request):
        code = ExclusionCode.ESCALATED
        cell = _cell(catalog, model, request)
        where = f"{request.task_type}/{request.complexity}"
        reason = f"escalated: poor shadow-audit record on {where}" + (
            f" ({cell.evidence()})" if cell else ""
        )
    else:
        # The budget check: a billing rule (Entitlement.over_budget), for every candidate.
        credits = entitlement.to_credits(model.raw_cost(request.input_tokens, output_tokens))
        stop = entitlement.over_budget(credits)
        if stop == "credits":
            code = ExclusionCode.OVER_BUDGET
            reason = f"needs ~{credits:.2f} credits, {entitlement.credits_left:.2f} left"
        elif stop == "cap" and entitlement.cap is not None:
            code = ExclusionCode.OVER_CAP
            reason = (
                f"needs ~{credits:.2f} credits, {entitlement.cap.left:.2f} left under "
                f"{entitlement.cap.subject} monthly cap"
            )
    return Exclusion(model.slug, reason, code) if code else None


@dataclass(frozen=True)
class Standing:
    """How a candidate compares with the strongest candidate for a task type and complexity."""

    accepted: bool  # within QUALITY_MARGIN of the strongest: auto may choose it
    decided: bool  # nothing left to learn: exploration leaves it alone
    basis: str  # the evidence, for the decision's reasons


def strongest_model(candidates: Sequence[ModelInfo], task_type: str) -> ModelInfo:
    """The candidate with the best prior for the task type (the cheaper on a tie)."""
    return max(candidates, key=lambda m: (_quality(m, task_type), -m.raw_cost(1000, 1000)))


def standing(
    catalog: Catalog, model: ModelInfo, strongest: ModelInfo, request: RouteRequest
) -> Standing:
    """Whether `model` is as good as `strongest` here, within the margin. With a cell, an audit
    scores the model's answer against the reference model's, so the poor rate bounds how much
    worse it is: the 95% interval's high end at most the margin accepts it, its low end above
    the margin rejects it. Without one, the catalog's priors decide and nothing is decided."""
    task, where = request.task_type, f"{request.task_type}/{request.complexity}"
    if model.slug == strongest.slug:
        return Standing(True, True, f"the strongest, prior {_quality(model, task):.2f}")
    cell = _cell(catalog, model, request)
    if cell is not None and cell.samples > 0:
        accepted = cell.poor_high <= QUALITY_MARGIN
        decided = accepted or cell.poor_low > QUALITY_MARGIN
        return Standing(
            accepted,
            decided or cell.samples >= EXPLORATION_MAX_SAMPLES,
            f"cell {model.slug}×{where}: {cell.evidence()}",
        )
    prior, best = _quality(model, task), _quality(strongest, task)
    return Standing(
        best - prior <= QUALITY_MARGIN,
        False,
        f"prior {prior:.2f} against {strongest.slug}'s {best:.2f}, no audits yet",
    )


def _ranker(
    mode: str, request: RouteRequest, catalog: Catalog, candidates: Sequence[ModelInfo]
) -> Callable[[ModelInfo], tuple[object, ...]]:
    def cost(m: ModelInfo) -> Decimal:
        return m.raw_cost(request.input_tokens, 1)

    task = request.task_type
    if mode == "cost":
        return lambda m: (cost(m), -_quality(m, task))
    if mode == "speed":
        return lambda m: (LATENCY_RANK.get(m.latency_tier, 1), cost(m))
    if mode == "quality" or not candidates:
        return lambda m: (-_quality(m, task), cost(m))
    if catalog.quality_bar == "absolute":
        return _absolute_ranker(request, catalog, cost)
    strongest = strongest_model(candidates, task)

    # auto: every model within the margin of the strongest, cheapest first, then the rest,
    # best estimate first.
    def auto(m: ModelInfo) -> tuple[object, ...]:
        if standing(catalog, m, strongest, request).accepted:
            return (0, cost(m), 0.0)
        return (1, Decimal(0), -estimated_quality(catalog, m, request))

    return auto


def _absolute_ranker(
    request: RouteRequest, catalog: Catalog, cost: Callable[[ModelInfo], Decimal]
) -> Callable[[ModelInfo], tuple[object, ...]]:
    """auto with the absolute bar: every model whose estimated quality meets the bar for the
    complexity, cheapest first, then the rest, best first."""
    bar = QUALITY_BAR.get(request.complexity, QUALITY_BAR["medium"])

    def auto(m: ModelInfo) -> tuple[object, ...]:
        quality = estimated_quality(catalog, m, request)
        return (0, cost(m), 0.0) if quality >= bar else (1, Decimal(0), -quality)

    return auto


def _absolute_reason(chosen: ModelInfo, request: RouteRequest, catalog: Catalog) -> str:
    bar = QUALITY_BAR.get(request.complexity, QUALITY_BAR["medium"])
    quality = estimated_quality(catalog, chosen, request)
    where = f"{request.task_type}/{request.complexity}"
    cell = _cell(catalog, chosen, request)
    basis = (
        f"estimate {quality:.2f} from prior {_quality(chosen, request.task_type):.2f} and "
        f"cell {chosen.slug}×{where}: {cell.evidence()}"
        if cell
        else f"prior {quality:.2f}, no audits yet"
    )
    if quality >= bar:
        return f"cheapest model meeting the quality bar {bar:.2f} for {where} ({basis})"
    return f"no model meets the bar {bar:.2f} for {where}; best available ({basis})"


def exploration_pick(
    ranked: Sequence[ModelInfo], request: RouteRequest, catalog: Catalog, entitlement: Entitlement
) -> ModelInfo | None:
    """The model to try instead of auto's choice, or None. Only for a drawn share of requests
    of an organisation whose answers are audited (else nothing would be learned), only a model
    whose per-token prices are both at most the choice's (the customer never pays more than
    the choice would cost), and only while its cell is undecided: the cheapest such."""
    if request.exploration_draw >= EXPLORATION_RATE or len(ranked) < 2:
        return None
    if entitlement.audit_rate <= 0 or catalog.quality_bar == "absolute":
        return None
    chosen, strongest = ranked[0], strongest_model(ranked, request.task_type)
    options = [
        m
        for m in ranked[1:]
        if m.input_cost_per_mtok <= chosen.input_cost_per_mtok
        and m.output_cost_per_mtok <= chosen.output_cost_per_mtok
        and m.raw_cost(1000, 1000) < chosen.raw_cost(1000, 1000)
        and not standing(catalog, m, strongest, request).decided
    ]
    return min(options, key=lambda m: m.raw_cost(request.input_tokens, 1), default=None)


def _auto_reason(
    chosen: ModelInfo,
    ranked: Sequence[ModelInfo],
    request: RouteRequest,
    catalog: Catalog,
    *,
    exploring: bool,
) -> str:
    if catalog.quality_bar == "absolute":
        return _absolute_reason(chosen, request, catalog)
    where = f"{request.task_type}/{request.complexity}"
    strongest = strongest_model(ranked, request.task_type)
    basis = standing(catalog, chosen, strongest, request).basis
    if exploring:
        return (
            f"exploring: {chosen.slug} is not yet known to be within {QUALITY_MARGIN:.0%} of "
            f"{strongest.slug} on {where} ({basis}); a sampled {EXPLORATION_RATE:.0%} of such "
            f"requests try it, at its own prices (at most {ranked[1].slug}'s), audited more often"
        )
    if chosen.slug == strongest.slug:
        return (
            f"strongest model for {where} ({basis}); no cheaper model is shown within "
            f"{QUALITY_MARGIN:.0%} of it"
        )
    return f"cheapest model within {QUALITY_MARGIN:.0%} of {strongest.slug} on {where} ({basis})"


MODE_REASONS = {
    "cost": "cheapest eligible model",
    "speed": "fastest latency tier, then cheapest",
    "quality": "highest quality prior for {task}",
}


def mode_checked(mode: str | None, entitlement: Entitlement) -> str:
    """The routing mode to use (auto by default); refuses an unknown one or one not in the plan."""
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


def route_request(
    *, outcome: PrecheckOutcome, assistant: AssistantChoice, inputs: PrecheckInputs
) -> RouteRequest:
    """What routing decides on, counting every input token the bill will (the prompt, its
    context and the assistant's system prompt); refuses a request over the plan's max context."""
    entitlement = inputs.entitlement
    input_tokens = outcome.input_tokens + inputs.context_tokens
    info = inputs.catalog.assistant(assistant.family)
    if inputs.system_prompt and info is not None:
        input_tokens += info.system_prompt_tokens
    if input_tokens > entitlement.max_context:
        raise InvalidRequest(
            f"prompt: about {input_tokens:,} tokens, over the "
            f"{entitlement.plan_name} plan's max context of {entitlement.max_context:,}",
            {"param": "prompt"},
        )
    return RouteRequest(
        task_type=outcome.task_type,
        complexity=outcome.complexity,
        assistant=assistant.family,
        input_tokens=input_tokens,
        needs_images=outcome.needs_images,
        language=outcome.language,
        mode=mode_checked(inputs.mode, entitlement),
        model=inputs.model,
        max_output_tokens=inputs.max_output_tokens,
        exploration_draw=inputs.exploration_draw,
    )


def rule_matches(rule: RuleInfo, request: RouteRequest) -> bool:
    """A rule's conditions are all required; a list value means any of its items."""
    facts = {
        "task_type": request.task_type,
        "complexity": request.complexity,
        "assistant": request.assistant,
        "language": request.language,
        "needs_images": request.needs_images,
    }
    for key, expected in rule.conditions.items():
        if key == "min_input_tokens":
            matched = request.input_tokens >= int(expected)
        elif key == "max_input_tokens":
            matched = request.input_tokens <= int(expected)
        elif key in facts:
            options = expected if isinstance(expected, list) else [expected]
            matched = facts[key] in options
        else:
            matched = False  # an unknown condition never matches rather than always
        if not matched:
            return False
    return True


def route_select(
    *,
    request: RouteRequest,
    catalog: Catalog,
    entitlement: Entitlement,
    rules: Sequence[RuleInfo] = (),
    down_providers: frozenset[str] = frozenset(),
) -> RouteDecision:
    """Choose a model and ranked fallbacks, with a reason for the choice and every exclusion.

    In custom mode the first matching rule (in order) decides; a rule whose model cannot be
    used is skipped with its reason, and without a usable rule the choice falls back to auto.
    """
    output_tokens = estimate_output_tokens(
        request.task_type, request.complexity, request.input_tokens
    )
    if request.max_output_tokens is not None:
        output_tokens = min(output_tokens, request.max_output_tokens)
    exclusions: list[Exclusion] = []
    candidates: list[ModelInfo] = []
    for model in catalog.models:
        excluded = _exclusion(
            model,
            request=request,
            output_tokens=output_tokens,
            entitlement=entitlement,
            catalog=catalog,
            down_providers=down_providers,
        )
        if excluded:
            exclusions.append(excluded)
        else:
            candidates.append(model)

    if request.model:
        return _explicit_model(request, candidates, exclusions, output_tokens, entitlement)
    mode, pinned, rule_note = request.mode, None, None
    if mode == "custom":
        mode, pinned, rule_note, skipped = _apply_rules(rules, request, candidates, exclusions)
        exclusions.extend(skipped)

    ranked = sorted(candidates, key=_ranker(mode, request, catalog, candidates))
    if pinned is not None:
        ranked = [pinned, *(m for m in ranked if m is not pinned)]
    explored = (
        exploration_pick(ranked, request, catalog, entitlement)
        if request.mode == mode == "auto" and pinned is None
        else None
    )
    if explored is not None:
        ranked = [explored, *(m for m in ranked if m is not explored)]
    return _decision(
        ranked=ranked,
        request=request,
        mode=mode,
        output_tokens=output_tokens,
        entitlement=entitlement,
        exclusions=exclusions,
        rule_note=rule_note,
        pinned=pinned is not None,
        catalog=catalog,
        exploring=explored is not None,
    )


def _explicit_model(
    request: RouteRequest,
    candidates: list[ModelInfo],
    exclusions: list[Exclusion],
    output_tokens: int,
    entitlement: Entitlement,
) -> RouteDecision:
    """The caller named a model: use it without fallbacks, or refuse and say why."""
    chosen = next((m for m in candidates if m.slug == request.model), None)
    if chosen is None:
        why = next((e.reason for e in exclusions if e.model == request.model), None)
        code = RefusalCode.MODEL_NOT_FOUND if why is None else RefusalCode.MODEL_NOT_ALLOWED
        refusal = f"Model '{request.model}' " + (
            f"cannot be used: {why}." if why else "is unknown."
        )
        return RouteDecision(
            model=None,
            provider=None,
            fallbacks=(),
            mode=request.mode,
            reason=refusal,
            exclusions=tuple(exclusions),
            input_tokens=request.input_tokens,
            output_tokens=output_tokens,
            est_cost_raw=Decimal(0),
            est_credits=Decimal(0),
            refusal=refusal,
            refusal_code=code,
        )
    raw = chosen.raw_cost(request.input_tokens, output_tokens)
    return RouteDecision(
        model=chosen.slug,
        provider=chosen.provider,
        fallbacks=(),
        mode=request.mode,
        reason="requested by the caller",
        exclusions=tuple(exclusions),
        input_tokens=request.input_tokens,
        output_tokens=output_tokens,
        est_cost_raw=raw,
        est_credits=entitlement.to_credits(raw),
    )


def _apply_rules(
    rules: Sequence[RuleInfo],
    request: RouteRequest,
    candidates: list[ModelInfo],
    exclusions: list[Exclusion],
) -> tuple[str, ModelInfo | None, str | None, list[Exclusion]]:
    """(mode to rank with, model pinned by a rule, the rule's note, rules skipped)."""
    by_slug = {m.slug: m for m in candidates}
    excluded = {e.model: e.reason for e in exclusions}
    skipped: list[Exclusion] = []
    for rule in sorted(rules, key=lambda r: (r.organization_id is None, r.order, r.id)):
        if not rule_matches(rule, request):
            continue
        label = f"rule #{rule.order} '{rule.name}' matched"
        if rule.target_model:
            if rule.target_model in by_slug:
                return rule.mode or "auto", by_slug[rule.target_model], label, skipped
            why = excluded.get(rule.target_model, "not an active model")
            reason = f"rule #{rule.order} skipped: {why}"
            skipped.append(Exclusion(rule.target_model, reason, ExclusionCode.RULE_SKIPPED))
            continue
        if rule.mode and rule.mode != "custom":
            return rule.mode, None, label, skipped
        return "auto", None, label, skipped  # a family-only rule; the assistant already moved
    return "auto", None, None, skipped


class _DecisionCommon(TypedDict):
    """The fields every decision of `_decision` shares, chosen or refused."""

    mode: str
    exclusions: tuple[Exclusion, ...]
    input_tokens: int
    output_tokens: int
    rule: str | None


def _refusal(exclusions: list[Exclusion], entitlement: Entitlement) -> tuple[str, RefusalCode]:
    """Why no candidate is left, in words and as a code. A cap that stops a model the balance
    could pay for is what the caller must change, so it is named before the balance."""
    codes = {e.code for e in exclusions}
    cap = entitlement.cap
    if ExclusionCode.OVER_CAP in codes and cap is not None:
        return (
            f"This chat would pass {cap.subject} monthly budget cap: {cap.spent:.2f} of "
            f"{cap.monthly_credits:.2f} credits used this month. An owner or admin can raise "
            "it on the billing page.",
            RefusalCode.BUDGET_CAP,
        )
    if ExclusionCode.OVER_BUDGET in codes:
        return (
            f"Not enough credits: {entitlement.credits_left:.2f} left this period. "
            "Request a bigger plan to continue.",
            RefusalCode.INSUFFICIENT_CREDITS,
        )
    return "No available model can serve this request.", RefusalCode.NO_ROUTE


def _decision(
    *,
    ranked: list[ModelInfo],
    request: RouteRequest,
    mode: str,
    output_tokens: int,
    entitlement: Entitlement,
    exclusions: list[Exclusion],
    rule_note: str | None,
    pinned: bool,
    catalog: Catalog,
    exploring: bool = False,
) -> RouteDecision:
    common: _DecisionCommon = {
        "mode": mode,
        "exclusions": tuple(exclusions),
        "input_tokens": request.input_tokens,
        "output_tokens": output_tokens,
        "rule": rule_note,
    }
    if not ranked:
        refusal, refusal_code = _refusal(exclusions, entitlement)
        return RouteDecision(
            model=None,
            provider=None,
            fallbacks=(),
            reason=refusal,
            est_cost_raw=Decimal(0),
            est_credits=Decimal(0),
            refusal=refusal,
            refusal_code=refusal_code,
            **common,
        )
    chosen = ranked[0]
    if pinned:
        reason = str(rule_note)
    else:
        base = (
            _auto_reason(chosen, ranked, request, catalog, exploring=exploring)
            if mode == "auto"
            else MODE_REASONS[mode].format(task=request.task_type)
        )
        if rule_note:
            reason = f"{rule_note}; {base}"
        elif request.mode == "custom":
            reason = f"no custom rule matched; {base}"
        else:
            reason = base
    raw = chosen.raw_cost(request.input_tokens, output_tokens)
    return RouteDecision(
        model=chosen.slug,
        provider=chosen.provider,
        fallbacks=tuple(m.slug for m in ranked[1 : 1 + MAX_FALLBACKS]),
        reason=reason,
        est_cost_raw=raw,
        est_credits=entitlement.to_credits(raw),
        exploring=exploring,
        **common,
    )


def model_availability(
    *, catalog: Catalog, entitlement: Entitlement, down_providers: frozenset[str] = frozenset()
) -> list[tuple[ModelInfo, str | None]]:
    """Every active model with why the caller cannot use it (None when they can)."""
    result: list[tuple[ModelInfo, str | None]] = []
    for model in catalog.models:
        reason = None
        if not entitlement.allows_model(model.slug):
            reason = f"not in plan {entitlement.plan_name}"
        elif model.provider_status in DOWN_STATUSES or model.provider in down_providers:
            reason = "provider down"
        elif not model.key_configured:
            reason = f"no API key configured ({model.key_env} is not set)"
        result.append((model, reason))
    return result
