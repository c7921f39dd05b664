"""Airtable's HTTP errors translated into domain errors (the adapter end of the one error map)."""

from __future__ import annotations

from typing import Any

import requests

from common.core.errors import AppError, NotFound, RateLimited, UpstreamError, ValidationFailed


class TokenRejected(UpstreamError):
    """Airtable answered 401: the token is invalid, expired or revoked."""

    transient = False


class Unanswered(UpstreamError):
    """No usable answer (connection failure, timeout, 5xx): a write may or may not have landed."""


def translate(exc: requests.RequestException) -> AppError:
    """The domain error for a failed Airtable call."""
    response = getattr(exc, "response", None)
    if response is None:
        return Unanswered("Airtable could not be reached.")
    status = response.status_code
    kind, message = _airtable_error(response)
    if status in (403, 404):
        # Airtable answers 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND for bases it won't show.
        return NotFound(f"Airtable: {message or 'not found'}")
    if status == 422:
        return ValidationFailed(f"Airtable rejected the request: {message or kind}",
                                details=[{"field": "airtable", "problem": kind or "invalid"}])
    if status == 429:
        return RateLimited("Airtable's rate limit was reached; retry later.", retry_after=30)
    if status == 401:
        return TokenRejected("Airtable rejected the connection's token.")
    if status >= 500:
        return Unanswered(f"Airtable failed with status {status}.")
    return UpstreamError(f"Airtable failed with status {status}.")


def _airtable_error(response: requests.Response) -> tuple[str, str]:
    try:
        body: Any = response.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("type", "")), str(error.get("message", ""))
    return (str(error), "") if error else ("", "")
