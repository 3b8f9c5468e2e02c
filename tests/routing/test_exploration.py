"""Auto mode's exploration: a drawn, bounded share of requests in a cell with a cheaper model
still undecided try that model, never at a higher price, and stop once the cell is decided."""

from dataclasses import replace

import pytest

from routing.policy import EXPLORATION_MAX_SAMPLES, EXPLORATION_RATE, route_select
from routing.types import CellEstimate, RouteRequest
from tests.routing.builders import CATALOG, ENTITLEMENT, model

UNDECIDED = CellEstimate(30, 0.85, 0.1, 0.035, 0.26)  # might be within the margin, or not
REJECTED = CellEstimate(60, 0.6, 0.4, 0.29, 0.53)  # confidently more than the margin worse
ACCEPTED = CellEstimate(400, 0.95, 0.01, 0.0039, 0.0255)


def request(draw: float, **overrides: object) -> RouteRequest:
    base = {"task_type": "coding", "complexity": "medium", "assistant": "generalist"}
    return RouteRequest(**{**base, "input_tokens": 500, "exploration_draw": draw, **overrides})


def decide(draw: float, cells: dict | None = None, catalog=CATALOG, **overrides: object):
    catalog = replace(catalog, cells=cells or {})
    return route_select(
        request=request(draw, **overrides), catalog=catalog, entitlement=ENTITLEMENT
    )


def test_a_drawn_request_tries_the_cheapest_undecided_model_and_says_so() -> None:
    exploit = decide(0.99)
    explore = decide(0.01)

    assert (exploit.model, exploit.exploring) == ("big", False)
    assert (explore.model, explore.exploring) == ("cheap", True)
    assert explore.fallbacks[0] == "big"  # a failure falls back to the choice it replaced
    assert explore.reason.startswith(
        "exploring: cheap is not yet known to be within 5% of big on coding/medium "
        "(prior 0.60 against big's 0.90, no audits yet)"
    )
    assert explore.est_cost_raw < exploit.est_cost_raw


def test_only_the_exploration_share_of_requests_explores() -> None:
    draws = [i / 100 for i in range(100)]

    explored = sum(decide(draw).exploring for draw in draws)

    assert explored == round(EXPLORATION_RATE * 100)


def test_a_decided_cell_is_no_longer_explored_and_the_next_cheapest_is() -> None:
    rejected = decide(0.01, {("cheap", "coding", "medium"): REJECTED})
    both = decide(
        0.01,
        {("cheap", "coding", "medium"): REJECTED, ("mid", "coding", "medium"): REJECTED},
    )

    assert (rejected.model, rejected.exploring) == ("mid", True)
    assert (both.model, both.exploring) == ("big", False)


def test_an_accepted_cell_is_chosen_not_explored() -> None:
    decision = decide(0.01, {("cheap", "coding", "medium"): ACCEPTED})

    assert (decision.model, decision.exploring) == ("cheap", False)


def test_exploration_stops_at_its_sample_budget_even_when_undecided() -> None:
    spent = replace(UNDECIDED, samples=EXPLORATION_MAX_SAMPLES)
    cells = {("cheap", "coding", "medium"): spent, ("mid", "coding", "medium"): spent}

    decision = decide(0.01, cells)

    assert (decision.model, decision.exploring) == ("big", False)


def test_a_model_dearer_on_either_price_is_never_explored() -> None:
    # cheaper in total, but dearer per output token than the choice: an answer could cost more
    odd = model("odd", "0.01", "12.00", 0.5)
    big = next(m for m in CATALOG.models if m.slug == "big")
    catalog = replace(CATALOG, models=(big, odd))

    decision = decide(0.01, catalog=catalog)

    assert (decision.model, decision.exploring) == ("big", False)


@pytest.mark.parametrize("mode", ["cost", "quality", "speed"])
def test_other_modes_never_explore(mode: str) -> None:
    assert decide(0.0, mode=mode).exploring is False


def test_an_organisation_whose_answers_are_not_audited_is_never_explored() -> None:
    catalog = replace(CATALOG, cells={})
    unaudited = replace(ENTITLEMENT, audit_rate=0)

    decision = route_select(request=request(0.0), catalog=catalog, entitlement=unaudited)

    assert (decision.model, decision.exploring) == ("big", False)
