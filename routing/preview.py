"""What routing would do with a prompt, without recording or calling anything.

The same steps as the chat pipeline (`chat/pipeline.py`), for the previews: the chat page's
hint while typing, `POST /api/ai/precheck` and `manage.py route_simulate`.
"""

from __future__ import annotations

from routing.assistants import assistant_choose
from routing.policy import route_request, route_select
from routing.precheck.pipeline import precheck_run
from routing.types import PrecheckInputs, RoutePreview


def route_preview(inputs: PrecheckInputs) -> RoutePreview:
    """Precheck, assistant and route for `inputs`; raises InvalidRequest / NotInPlan for bad
    input, and returns a blocked prompt without an assistant or a decision."""
    outcome = precheck_run(
        text=inputs.prompt, entitlement=inputs.entitlement, has_images=inputs.has_images
    )
    if outcome.blocked:
        return RoutePreview(outcome, None, None)
    assistant = assistant_choose(outcome=outcome, inputs=inputs)
    decision = route_select(
        request=route_request(outcome=outcome, assistant=assistant, inputs=inputs),
        catalog=inputs.catalog,
        entitlement=inputs.entitlement,
        rules=inputs.rules,
        down_providers=inputs.down_providers,
    )
    return RoutePreview(outcome, assistant, decision)
