"""The append-only saga log and the saga row that summarises it (both written in one commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from common.db import UnitOfWork
from common.models import Saga, SagaLogEntry, utcnow
from common.sagas.errors import SagaCancelled, SagaGone

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


def open_step(uow: UnitOfWork, saga_id: str, step: int) -> tuple[Saga, list[SagaLogEntry]]:
    """The running saga and its log, with `step` logged as started (committed) unless it was;
    a step the log says succeeded is the caller's to skip."""
    saga = running(uow, saga_id)
    found = entries(uow, saga_id)
    if not has(found, f"step/{step}/succeeded") and not has(found, f"step/{step}/started"):
        append(uow, saga, f"step/{step}/started", "step.started", step=step)
        uow.commit()
    return saga, found


def step_failed(saga_id: str, step: int, message: str) -> None:
    """Log one failed attempt of a step, numbered so that every retry leaves its own entry."""
    with UnitOfWork() as uow:
        saga = locked(uow, saga_id)
        attempts = sum(e.kind == "step.failed" and e.step == step for e in entries(uow, saga_id))
        append(uow, saga, f"step/{step}/failed/{attempts}", "step.failed", step=step,
               error=message)
        uow.commit()


def kept(uow: UnitOfWork, saga: Saga) -> Saga:
    """The saga detached with its loaded values, readable after the unit of work ends."""
    uow.session.expunge(saga)
    return saga


def load(uow: UnitOfWork, saga_id: str) -> Saga:
    """The saga (not locked), readable after the unit of work ends."""
    saga = uow.session.get(Saga, saga_id)
    if saga is None:
        raise SagaGone(f"No saga {saga_id}.")
    return kept(uow, saga)


def entries(uow: UnitOfWork, saga_id: str) -> list[SagaLogEntry]:
    """Everything logged for the saga, oldest first (detached: entries never change)."""
    found = list(uow.session.scalars(select(SagaLogEntry).where(
        SagaLogEntry.saga_id == saga_id).order_by(SagaLogEntry.seq)))
    for entry in found:
        uow.session.expunge(entry)
    return found


def append(uow: UnitOfWork, saga: Saga, key: str, kind: str, step: int | None = None,
           chunk: int | None = None, **data: Any) -> SagaLogEntry:
    """Add one entry; `key` is unique per saga, so a duplicate write is refused at commit."""
    entry = SagaLogEntry(saga_id=saga.id, key=key, kind=kind, step=step, chunk=chunk,
                         data=data, at=utcnow())
    uow.session.add(entry)
    saga.updated_at = entry.at
    return entry


def has(log: list[SagaLogEntry], key: str) -> bool:
    """Whether `key` is logged."""
    return any(e.key == key for e in log)


def finish(uow: UnitOfWork, saga: Saga, status: str, **data: Any) -> None:
    """Log the saga's end, set its status and queue its event (published at commit)."""
    append(uow, saga, f"finished/{status}/{len(entries(uow, saga.id))}", "saga.finished",
           status=status, **data)
    saga.status = status
    saga.finished_at = utcnow()
    if "output" in data:
        saga.output = data["output"]
    if data.get("error"):
        saga.error = data["error"]
    event = EVENTS.get(status)
    if event:
        uow.add_event(event, {"saga_id": saga.id, "type": saga.type, "status": status,
                              "workspace_id": saga.workspace_id, "user_id": saga.created_by,
                              **({"error": saga.error} if saga.error else {})})


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 of a timestamp, or None."""
    return moment.isoformat() if moment else None
