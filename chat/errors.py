"""The chat path's refusals, and the guard that turns a decision without a model into one."""

from __future__ import annotations

from rest_framework import status

from accounts.errors import ApplicationError
from billing.errors import BudgetCapReached, InsufficientCredits
from routing.errors import InvalidRequest, NotInPlan
from routing.types import Catalog, ModelInfo, RefusalCode, RouteDecision

PLAN_REQUEST_URL = "/usage/#plan-requests"
BILLING_URL = "/app/billing/"


class NoRouteAvailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    error_type = "api_error"
    code = "no_route"


class BetterAnswerUnavailable(ApplicationError):
    """The stronger model could not be asked for the better answer; nothing was billed."""

    status_code = status.HTTP_502_BAD_GATEWAY
    error_type = "api_error"
    code = "better_answer_unavailable"


class DuplicateRequest(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "duplicate_request"


class Unauthenticated(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    error_type = "authentication_error"
    code = "invalid_api_key"


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    error_type = "not_found_error"
    code = "not_found"


def route_guard(decision: RouteDecision, catalog: Catalog) -> tuple[ModelInfo, ...]:
    """The models to try, in order; or the refusal the decision's code stands for."""
    if decision.model is None:
        message = str(decision.refusal)
        match decision.refusal_code:
            case RefusalCode.INSUFFICIENT_CREDITS:
                raise InsufficientCredits(message, {"plan_request_url": PLAN_REQUEST_URL})
            case RefusalCode.BUDGET_CAP:
                raise BudgetCapReached(message, {"billing_url": BILLING_URL})
            case RefusalCode.MODEL_NOT_ALLOWED:
                raise NotInPlan(message, {"param": "model"})
            case RefusalCode.MODEL_NOT_FOUND:
                raise InvalidRequest(message, {"param": "model"})
        raise NoRouteAvailable(message)
    slugs = (decision.model, *decision.fallbacks)
    return tuple(model for slug in slugs if (model := catalog.model(slug)) is not None)
