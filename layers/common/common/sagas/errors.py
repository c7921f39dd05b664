"""The saga machines' own task errors, beside the shared ones (common.core.tasks).

`Throttled` and `Transient` are retried with backoff and `Rejected` routes to compensation, as
in every machine. A saga adds: `ChunkInFlight` (retried long enough for a stopped execution's
write to end), `CompensationFailed` (retried, then the saga ends `failed`), and `SagaCancelled`
and `SagaGone`, which stop the execution without compensating.
"""

from __future__ import annotations

from common.core.errors import AppError
from common.core.tasks import Rejected, TaskError, classify


class ChunkInFlight(TaskError):
    """A write started by a stopped execution may still be running; compensation waits for it."""


class SagaCancelled(TaskError):
    """The saga was cancelled while this task ran; its compensation takes over."""


class SagaGone(TaskError):
    """The saga no longer exists (its workspace was deleted): its execution just stops."""


class CompensationFailed(TaskError):
    """Undoing a step failed this time; retried, then the saga is left `failed`."""


def compensation_error(error: AppError) -> TaskError:
    """The task error for a domain error met while undoing: a refusal is retried there too."""
    named = classify(error)
    return CompensationFailed(str(named)) if isinstance(named, Rejected) else named
