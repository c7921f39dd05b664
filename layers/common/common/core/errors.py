"""Domain errors: raised anywhere, turned into the API's error envelope by `common.core.http`
alone."""

from typing import Any


class AppError(Exception):
    """Base of every error with a place in the API's error envelope."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class ValidationFailed(AppError):
    """The request is well-formed but its content is not acceptable."""

    status, code = 422, "validation_error"


class InvalidToken(AppError):
    """A single-use token from an email is unknown, spent or expired."""

    status, code = 400, "invalid_token"


class Unauthorized(AppError):
    """Credentials are missing or wrong."""

    status, code = 401, "unauthorized"


class Forbidden(AppError):
    """The caller is known but lacks the right."""

    status, code = 403, "forbidden"


class NotFound(AppError):
    """The object does not exist, or belongs to someone else."""

    status, code = 404, "not_found"


class Conflict(AppError):
    """The change clashes with existing state (duplicates, stale versions)."""

    status, code = 409, "conflict"


class PayloadTooLarge(AppError):
    """The request body is over the limit."""

    status, code = 413, "payload_too_large"


class RateLimited(AppError):
    """Too many requests; `retry_after` seconds tell when to try again."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    """A dependency the service cannot work without (its database) is down; retry later."""

    status, code = 503, "service_unavailable"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class UpstreamError(AppError):
    """Airtable or an AWS service failed."""

    status, code = 502, "upstream_error"
    # Whether trying again may help (a 5xx, no answer); a rejected token never does.
    transient = True
