"""The errors every state machine's task raises on purpose, and the one reader of its failures.

A Lambda task's error reaches Step Functions as its class name (`Error`) and a JSON `Cause`
(`{"errorType", "errorMessage"}`); the machines' `Retry` and `Catch` match these names:

- `Throttled`: told to slow down (a 429, Airtable's or the shared limiter's); retried spaced
  out, to outlast Airtable's 30 s lock-out.
- `Transient`: a 5xx, an unreachable Airtable, a lost answer; retried soon with backoff.
- `Rejected`: refused for good (an unknown field, a missing record, no access left); never
  retried: the machine's Catch compensates or fails the run.

Any other error (a bug, a Lambda timeout) is caught as `States.ALL`, like `Rejected`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from common.core.errors import AppError, RateLimited, UpstreamError


class TaskError(Exception):
    """Raised by a task on purpose: its message is what the run's error tells a person."""


class Throttled(TaskError):
    """Told to slow down: the machine retries later, spaced out."""


class Transient(TaskError):
    """A failure worth trying again soon (5xx, unreachable, an answer lost on the way)."""


class Rejected(TaskError):
    """Refused for good: the machine stops retrying and compensates or fails the run."""


def is_transient(error: AppError) -> bool:
    """Whether an Airtable error is worth retrying (429, 5xx, unreachable; not a bad token)."""
    return isinstance(error, RateLimited) or (
        isinstance(error, UpstreamError) and error.transient)


def classify(error: AppError) -> TaskError:
    """The task error a domain error stands for (same message)."""
    if isinstance(error, RateLimited):
        return Throttled(error.message)
    if is_transient(error):
        return Transient(error.message)
    return Rejected(error.message)


@contextlib.contextmanager
def classified() -> Iterator[None]:
    """Domain errors raised inside leave as the task error they stand for."""
    try:
        yield
    except AppError as e:
        raise classify(e) from e


@dataclass(frozen=True)
class Failure:
    """A Step Functions failure read back: the error's name and its message."""

    error: str
    message: str

    @property
    def ours(self) -> bool:
        """Whether a task raised it on purpose (its message is meant for a person as is)."""
        return self.error in _names(TaskError)

    @property
    def text(self) -> str:
        """One line: our errors' message alone, any other prefixed with its name."""
        if self.ours:
            return self.message or self.error
        return f"{self.error}: {self.message}".strip(": ")


def read_failure(failure: dict[str, Any] | None) -> Failure | None:
    """The failure a Catch put in the state (`Error`, `Cause`); a Lambda error's `Cause` is its
    JSON body, of which the message is kept."""
    if not failure:
        return None
    cause = failure.get("Cause") or ""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        body = json.loads(cause)
        if isinstance(body, dict):
            cause = body.get("errorMessage") or cause
    return Failure(str(failure.get("Error") or "Error"), str(cause))


def failure_text(failure: dict[str, Any] | None) -> str | None:
    """A Step Functions failure as one line for a person, or None without one."""
    read = read_failure(failure)
    return read.text if read else None


def _names(kind: type[TaskError]) -> set[str]:
    """The class names of `kind` and of everything derived from it (a machine's own too)."""
    return {kind.__name__, *(n for sub in kind.__subclasses__() for n in _names(sub))}
