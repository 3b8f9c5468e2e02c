from accounts.errors import ApplicationError


class NoActivePlan(ApplicationError):
    status_code = 402
    error_type = "billing_error"
    code = "no_active_plan"


class InsufficientCredits(ApplicationError):
    status_code = 402
    error_type = "billing_error"
    code = "insufficient_credits"


class BudgetCapReached(ApplicationError):
    status_code = 402
    error_type = "billing_error"
    code = "budget_cap_reached"


class PlanRequestInvalid(ApplicationError):
    """A plan request that cannot be filed as asked; `extra["param"]` names the field."""

    code = "invalid_field"


class PlanRequestDuplicate(ApplicationError):
    """The user already waits on the same request; `extra["existing_id"]` is that one."""

    status_code = 409
    code = "duplicate_plan_request"
