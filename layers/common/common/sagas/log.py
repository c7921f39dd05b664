"""The append-only saga log and the saga row that summarises it (both written in one commit).

This module reads and writes them; what the entries mean is `saga_log.SagaLog`'s to say.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.core.db import UnitOfWork
from common.core.models import Saga, SagaLogEntry, utcnow
from common.core.tasks import failure_text
from common.sagas.errors import SagaCancelled, SagaGone
from common.sagas.saga_log import Kind, SagaLog
from common.sagas.summary import summary

# Terminal statuses and the event each one publishes (cancel and undo were asked for: no event).
TERMINAL = {"succeeded", "compensated", "failed", "cancelled", "undone"}
EVENTS = {"succeeded": "saga.succeeded", "compensated": "saga.compensated",
          "failed": "saga.failed"}


def locked(uow: UnitOfWork, saga_id: str) -> Saga:
    """The saga row, locked until commit: tasks and cancel of one saga take turns."""
    saga = uow.session.scalar(select(Saga).where(Saga.id == saga_id).with_for_update())
    if saga is None:
        raise SagaGone(f"No saga {saga_id}.")
    return saga


def running(uow: UnitOfWork, saga_id: str) -> Saga:
    """The saga row, locked; `SagaCancelled` once it is no longer running."""
    saga = locked(uow, saga_id)
    if saga.status != "running":
        raise SagaCancelled(f"Saga {saga_id} is {saga.status}.")
    return saga


def detached(uow: UnitOfWork, saga: Saga) -> Saga:
    """The saga with its loaded values, readable after the unit of work ends (which rolls
    back and would expire it)."""
    uow.session.expunge(saga)
    return saga


def load(uow: UnitOfWork, saga_id: str) -> Saga:
    """The saga (not locked), readable after the unit of work ends."""
    saga = uow.session.get(Saga, saga_id)
    if saga is None:
        raise SagaGone(f"No saga {saga_id}.")
    return detached(uow, saga)


def entries(uow: UnitOfWork, saga_id: str) -> list[SagaLogEntry]:
    """Everything logged for the saga, oldest first (detached: entries never change)."""
    found = list(uow.session.scalars(select(SagaLogEntry).where(
        SagaLogEntry.saga_id == saga_id).order_by(SagaLogEntry.seq)))
    for entry in found:
        uow.session.expunge(entry)
    return found


def read(uow: UnitOfWork, saga: Saga) -> SagaLog:
    """The saga's log (with a transaction's operations)."""
    return SagaLog(entries(uow, saga.id), (saga.input or {}).get("operations", []))


def append(uow: UnitOfWork, saga: Saga, key: str, kind: Kind, step: int | None = None,
           chunk: int | None = None, **data: Any) -> SagaLogEntry:
    """Add one entry; `key` is unique per saga, so a duplicate write is refused at commit."""
    entry = SagaLogEntry(saga_id=saga.id, key=key, kind=kind.value, step=step, chunk=chunk,
                         data=data, at=utcnow())
    uow.session.add(entry)
    saga.updated_at = entry.at
    return entry


def open_step(uow: UnitOfWork, saga_id: str, step: int) -> tuple[Saga, SagaLog]:
    """The running saga (detached) and its log, with `step` logged as started (committed)
    unless it was; a step the log says succeeded is the caller's to skip."""
    saga = running(uow, saga_id)
    found = read(uow, saga)
    if not found.has(f"step/{step}/succeeded") and not found.has(f"step/{step}/started"):
        append(uow, saga, f"step/{step}/started", Kind.STEP_STARTED, step=step)
        uow.commit()
    return detached(uow, saga), found


def step_failed(saga_id: str, step: int, message: str) -> None:
    """Log one failed attempt of a step, numbered so that every retry leaves its own entry."""
    with UnitOfWork() as uow:
        saga = locked(uow, saga_id)
        attempts = read(uow, saga).count(Kind.STEP_FAILED, step)
        append(uow, saga, f"step/{step}/failed/{attempts}", Kind.STEP_FAILED, step=step,
               error=message)
        uow.commit()


def begin_compensation(saga_id: str, execution: str, reason: str,
                       failure: dict[str, Any] | None) -> None:
    """Log that compensation starts (once per execution) and why."""
    with UnitOfWork() as uow:
        saga = locked(uow, saga_id)
        if read(uow, saga).compensation_started(execution):
            return
        error = failure_text(failure)
        append(uow, saga, f"compensation/{execution}", Kind.COMPENSATION_STARTED,
               reason=reason, execution=execution, **({"error": error} if error else {}))
        if saga.status == "running":  # cancel and undo set it before they start
            saga.status = "compensating"
        if reason == "failure" and error and not saga.error:
            saga.error = {"message": error}
        uow.commit()


def start_compensation(saga_id: str, execution: str, reason: str,
                       failure: dict[str, Any] | None) -> tuple[Saga, SagaLog]:
    """Log that compensation starts, then the saga (detached) and its log as they stand; the
    row is locked while they are read, so a task still committing is waited for."""
    begin_compensation(saga_id, execution, reason, failure)
    with UnitOfWork() as uow:
        saga = locked(uow, saga_id)
        found = read(uow, saga)
        return detached(uow, saga), found


def finish(uow: UnitOfWork, saga: Saga, status: str, **data: Any) -> None:
    """Log the saga's end, set its status and queue its event (published at commit)."""
    found = entries(uow, saga.id)
    append(uow, saga, f"finished/{status}/{len(found)}", Kind.SAGA_FINISHED,
           status=status, **data)
    saga.status = status
    saga.finished_at = utcnow()
    if "output" in data:
        saga.output = data["output"]
    if data.get("error"):
        saga.error = data["error"]
    event = EVENTS.get(status)
    if event:
        failed = [e.step for e in found if e.kind == Kind.STEP_FAILED and e.step is not None]
        uow.add_event(event, {"saga_id": saga.id, "type": saga.type, "status": status,
                              "workspace_id": saga.workspace_id, "user_id": saga.created_by,
                              "summary": summary(saga.type, saga.input or {}),
                              **({"failed_step": failed[-1] + 1} if failed else {}),
                              **({"error": saga.error} if saga.error else {})})
