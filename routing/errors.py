from accounts.errors import ApplicationError


class InvalidRequest(ApplicationError):
    """Bad input; `extra["param"]` names the field."""

    code = "invalid_field"


class NotInPlan(ApplicationError):
    status_code = 403
    error_type = "permission_error"
    code = "not_in_plan"


class PromptBlocked(ApplicationError):
    status_code = 403
    error_type = "permission_error"
    code = "prompt_blocked"
