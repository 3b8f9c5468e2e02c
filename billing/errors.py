from gateway.errors import ApplicationError


class NoActivePlan(ApplicationError):
    status_code = 402
    error_type = "billing_error"
    code = "no_active_plan"


class InsufficientCredits(ApplicationError):
    status_code = 402
    error_type = "billing_error"
    code = "insufficient_credits"
