"""Compensating a transaction: applied chunks undone newest first, each undo logged."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from common.airtable import cache, records
from common.airtable.errors import Unanswered
from common.airtable.fresh_schema import TableInfo
from common.airtable.records import BATCH
from common.core.db import UnitOfWork
from common.core.errors import AppError, NotFound
from common.core.models import utcnow
from common.core.tasks import Rejected, Transient, failure_text
from common.sagas import log
from common.sagas.errors import ChunkInFlight, compensation_error
from common.sagas.saga_log import Kind, chunk_rows
from common.sagas.transaction.run import Run, delete_existing, retry_here

# A chunk started longer ago than this has certainly ended (the task Lambda's timeout is 60 s).
IN_FLIGHT = timedelta(seconds=90)
FINAL_STATUS = {"failure": "compensated", "cancel": "cancelled", "undo": "undone"}


def compensate(saga_id: str, execution: str, reason: str, failure: dict[str, Any] | None,
               deadline: float) -> dict[str, Any]:
    """Undo applied chunks newest first until none is left or the time budget is spent."""
    saga, found = log.start_compensation(saga_id, execution, reason, failure)
    if saga.status in log.TERMINAL:
        return {"done": True, "status": saga.status}
    writing = found.in_flight(utcnow(), IN_FLIGHT)
    if writing is not None:  # a stopped execution's task may still be writing
        raise ChunkInFlight(f"Operation {writing.step} chunk {writing.chunk} may still be "
                            "writing.")
    todo = found.pending_undo()
    run = Run(saga, compensating=True) if todo else None
    failures = 0
    while todo:
        try:
            _undo_chunk(run, *todo[0])
            failures = 0
        except Transient:
            failures += 1
            if not retry_here(failures, deadline):
                raise
        if time.monotonic() >= deadline:
            return {"done": False, "status": "compensating"}
        with UnitOfWork() as uow:
            todo = log.read(uow, saga).pending_undo()
    status = FINAL_STATUS[reason]
    with UnitOfWork() as uow:
        row = log.locked(uow, saga_id)
        left = log.read(uow, row).left_to_undo()
        if left:
            log.finish(uow, row, "failed", left_to_undo=left,
                       error={"message": "Some applied changes could not be undone.",
                              "left_to_undo": left})
            uow.commit()
            return {"done": True, "status": "failed"}
        if row.status not in log.TERMINAL:
            log.finish(uow, row, status)
            uow.commit()
    return {"done": True, "status": status}


def _undo_chunk(run: Run, i: int, j: int, applied: dict[str, Any]) -> None:
    op = run.ops[i]
    try:
        info = run.table(op)
        target = run.api_table(info)
        with cache.invalidating(run.base_id):
            result = _undo(target, info, op, chunk_rows(op, j), applied)
    except (AppError, Rejected) as e:
        error = e if isinstance(e, AppError) else NotFound(str(e))
        with UnitOfWork() as uow:
            saga = log.locked(uow, run.saga.id)
            failures = log.read(uow, saga).undo_failures(i, j)
            log.append(uow, saga, f"undo/{i}/{j}/failed/{failures}", Kind.UNDO_FAILED, step=i,
                       chunk=j, attempt=failures + 1, error=error.message)
            uow.commit()
        raise compensation_error(error) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, run.saga.id)
        log.append(uow, saga, f"undo/{i}/{j}/done", Kind.UNDO_CHUNK_DONE, step=i, chunk=j,
                   **result)
        if j == 0:
            log.append(uow, saga, f"undo/{i}/done", Kind.UNDO_STEP_DONE, step=i)
        uow.commit()


def _undo(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
          applied: dict[str, Any]) -> dict[str, Any]:
    action, before = op["action"], applied.get("before", {})
    if applied.get("unknown"):
        applied = _reconstruct(target, info, op, rows, applied)
    result: dict[str, Any] = {}
    if applied.get("created"):
        result["deleted"] = delete_existing(target, applied["created"])
    if action in ("update", "upsert") and applied.get("updated"):
        written = info.writable(dict.fromkeys(info.field_id(k) for r in rows
                                              for k in (r.get("fields") or {})))
        restore = [{"id": rid, "fields": {fid: before.get(rid, {}).get(fid) for fid in written}}
                   for rid in applied["updated"]]
        for start in range(0, len(restore), BATCH):
            target.batch_update(restore[start:start + BATCH], use_field_ids=True)
        result["restored"] = [r["id"] for r in restore]
    if action == "delete" and applied.get("deleted"):
        ids = applied["deleted"]
        made = _recreate(target, [info.writable(before.get(rid, {})) for rid in ids])
        result["recreated"] = {old: new["id"] for old, new in zip(ids, made, strict=True)}
    return result


def _recreate(target: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create the deleted records again; after a lost answer, the ones it made are found by
    value instead of being made twice."""
    sent = utcnow()
    try:
        return target.batch_create(rows, use_field_ids=True)
    except Unanswered:
        found = records.find_created(target, rows, sent, use_field_ids=True)
        if None in found:
            raise
        return [r for r in found if r is not None]


def _reconstruct(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
                 applied: dict[str, Any]) -> dict[str, Any]:
    """What an attempt that never reported may have done, read from Airtable as it is now."""
    before = applied.get("before", {})
    if op["action"] == "update":
        return {"updated": list(before)}
    if op["action"] == "delete":
        still = records.read_by_ids(target, before)
        return {"deleted": [rid for rid in before if rid not in still]}
    if op["action"] == "create":
        found = records.find_created(target, [info.by_ids(r.get("fields") or {}) for r in rows],
                                     applied["since"], applied["claimed"], use_field_ids=True)
        return {"created": [r["id"] for r in found if r is not None]}
    now = records.read_matches(target, info, op["merge_on"], rows)
    return {"created": [rid for rid in now if rid not in before],
            "updated": [rid for rid in now if rid in before]}


def give_up(saga_id: str, failure: dict[str, Any] | None) -> dict[str, Any]:
    """Compensation kept failing: the saga is `failed`, listing what is left to undo."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status in log.TERMINAL and saga.status != "succeeded":
            return {"status": saga.status}
        left = log.read(uow, saga).left_to_undo()
        error = {"message": "Compensation failed; these changes are left to undo.",
                 "cause": failure_text(failure), "left_to_undo": left}
        log.finish(uow, saga, "failed", left_to_undo=left, error=error)
        uow.commit()
    return {"status": "failed", "left_to_undo": left}


