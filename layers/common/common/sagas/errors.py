"""Named exceptions of saga tasks: the state machines' `Retry` and `Catch` match these names.

Transient ones (`AirtableThrottled`, `AirtableUnavailable`, `ChunkInFlight`) are retried with
backoff; `CompensationFailed` is retried too, then the saga ends `failed`; every other task error
routes to compensation.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from common.airtable.errors import TokenRejected
from common.errors import AppError, RateLimited, UpstreamError


class SagaTaskError(Exception):
    """Base of the errors a task raises on purpose (the message goes to the saga's log)."""


class AirtableThrottled(SagaTaskError):
    """Airtable (or the shared limiter) said to slow down; retried with backoff."""


class AirtableUnavailable(SagaTaskError):
    """Airtable failed with a 5xx or could not be reached; retried with backoff."""


class ChunkInFlight(SagaTaskError):
    """A write started by a stopped execution may still be running; compensation waits for it."""


class OperationFailed(SagaTaskError):
    """An operation was refused (unknown field, missing record, no access): compensate."""


class SagaCancelled(SagaTaskError):
    """The saga was cancelled while this task ran; its compensation takes over."""


class SagaGone(SagaTaskError):
    """The saga no longer exists (its workspace was deleted): its execution just stops."""


class CompensationFailed(SagaTaskError):
    """Undoing a step failed this time; retried, then the saga is left `failed`."""


class StepFailed(SagaTaskError):
    """A non-Airtable step (preferences, snapshot, notification) failed: compensate."""


def is_transient(error: AppError) -> bool:
    """Whether an Airtable error is worth retrying (429, 5xx, unreachable)."""
    return isinstance(error, RateLimited) or (
        isinstance(error, UpstreamError) and not isinstance(error, TokenRejected))


def named(error: AppError, *, compensating: bool = False) -> SagaTaskError:
    """The task error that stands for a domain error from Airtable."""
    if isinstance(error, RateLimited):
        return AirtableThrottled(error.message)
    if is_transient(error):
        return AirtableUnavailable(error.message)
    if compensating:
        return CompensationFailed(error.message)
    return OperationFailed(error.message)


def failure_text(failure: dict[str, Any] | None) -> str | None:
    """A Step Functions failure (`Error`, `Cause`) as one line: a Lambda error's message only."""
    if not failure:
        return None
    cause = failure.get("Cause") or ""
    with contextlib.suppress(ValueError, AttributeError):  # a Lambda error's JSON body
        cause = json.loads(cause).get("errorMessage", cause)
    return f"{failure.get('Error', 'Error')}: {cause}".strip(": ")
