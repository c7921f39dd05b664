"""Applying a transaction: chunks in order, each logged before and after its write."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from typing import Any

from common.airtable import cache, records
from common.airtable.fresh_schema import TableInfo
from common.core.db import UnitOfWork
from common.core.errors import AppError, NotFound
from common.core.tasks import Transient, classify, is_transient
from common.sagas import log
from common.sagas.errors import SagaCancelled
from common.sagas.saga_log import Kind, SagaLog, chunk_count, chunk_rows, step_output
from common.sagas.transaction.run import Run, delete_existing, retry_here, written


def apply(saga_id: str, deadline: float) -> dict[str, Any]:
    """Apply chunks in order until every operation is done or the time budget is spent."""
    with UnitOfWork() as uow:
        saga = log.load(uow, saga_id)
    if saga.status == "succeeded":
        return {"done": True}
    if saga.status != "running":
        raise SagaCancelled(f"Saga {saga_id} is {saga.status}; nothing more is applied.")
    run = Run(saga)
    failures = 0
    while True:
        with UnitOfWork() as uow:
            found = log.read(uow, saga)
        position = found.next_chunk()
        if position is None:
            with UnitOfWork() as uow:
                row = log.locked(uow, saga_id)
                if row.status == "running":
                    log.finish(uow, row, "succeeded", output=found.output())
                    uow.commit()
            return {"done": True}
        try:
            with _chunk_reserved(run, *position, deadline):
                _apply_chunk(run, *position, found)
            failures = 0
        except Transient:
            failures += 1
            if not retry_here(failures, deadline):
                raise
            continue  # the chunk's log now holds the failed attempt, which the retry reads
        if time.monotonic() >= deadline:
            return {"done": False}


def _chunk_reserved(run: Run, i: int, j: int, deadline: float) -> AbstractContextManager[Any]:
    """A chunk books its requests in the base's queue (its read of what it changes, then its
    write), waiting its turn no longer than the task's time budget."""
    requests = 1 if run.ops[i]["action"] == "create" else 2
    return run.access.api.reserved(run.base_id, requests, workspace_id=run.saga.workspace_id,
                                   wait_until=time.time() + max(deadline - time.monotonic(), 1.0))


def _apply_chunk(run: Run, i: int, j: int, found: SagaLog) -> None:
    op = run.ops[i]
    info = run.table(op)
    target = run.api_table(info)
    rows = chunk_rows(op, j)
    earlier = found.attempts(i, j)
    attempts = len(earlier)
    try:
        # An earlier attempt (killed, or failed transiently: a reset or a 5xx may come after
        # Airtable applied the write) may have written: only the values read before the first
        # attempt are true, and records it created are adopted instead of created again.
        before = earlier[0].data["before"] if earlier else _read_before(target, info, op, rows)
        adopted = records.find_created(target, [info.by_ids(r.get("fields") or {}) for r in rows],
                                       earlier[0].at, found.claimed(op["table"]),
                                       use_field_ids=True) \
            if earlier and op["action"] == "create" else None
    except AppError as e:
        raise classify(e) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, run.saga.id)
        if saga.status != "running":
            raise SagaCancelled(f"Saga {saga.id} is {saga.status}; nothing more is applied.")
        if attempts == 0 and j == 0:
            log.append(uow, saga, f"step/{i}/started", Kind.STEP_STARTED, step=i)
        log.append(uow, saga, f"apply/{i}/{j}/started/{attempts}", Kind.CHUNK_STARTED, step=i,
                   chunk=j, attempt=attempts, before=before)
        uow.commit()
    try:
        with cache.invalidating(run.base_id):
            result = _write(target, info, op, rows, before) if adopted is None \
                else _create_rest(target, info, op, rows, adopted)
    except AppError as e:
        transient = is_transient(e)
        with UnitOfWork() as uow:
            saga = log.locked(uow, run.saga.id)
            log.append(uow, saga, f"apply/{i}/{j}/failed/{attempts}", Kind.CHUNK_FAILED, step=i,
                       chunk=j, attempt=attempts, error=e.message, transient=transient)
            if not transient:
                log.append(uow, saga, f"step/{i}/failed", Kind.STEP_FAILED, step=i,
                           error=e.message)
            uow.commit()
        raise classify(e) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, run.saga.id)
        log.append(uow, saga, f"apply/{i}/{j}/applied", Kind.CHUNK_APPLIED, step=i, chunk=j,
                   attempt=attempts, **result)
        if j == chunk_count(op) - 1:
            log.append(uow, saga, f"step/{i}/succeeded", Kind.STEP_SUCCEEDED, step=i,
                       output=step_output(op, [*found.applied_results(i), result]))
        uow.commit()


def _read_before(target: Any, info: TableInfo, op: dict[str, Any],
                 rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if op["action"] in ("update", "delete"):
        return records.read_by_ids(target, [r["id"] for r in rows if r.get("id")])
    if op["action"] == "upsert":
        return records.read_matches(target, info, op["merge_on"], rows)
    return {}


def _write(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
           before: dict[str, dict[str, Any]]) -> dict[str, Any]:
    action, typecast = op["action"], bool(op.get("typecast"))
    if action == "create":
        made = target.batch_create([info.by_ids(r.get("fields") or {}) for r in rows],
                                   typecast=typecast, use_field_ids=True)
        return {"created": [r["id"] for r in made], "written": written(made)}
    if action == "update":
        made = target.batch_update([{"id": r["id"], "fields": info.by_ids(r.get("fields") or {})}
                                    for r in rows], typecast=typecast, use_field_ids=True)
        return {"updated": [r["id"] for r in made], "written": written(made)}
    if action == "upsert":
        payload = [{**({"id": r["id"]} if r.get("id") else {}),
                    "fields": info.by_ids(r.get("fields") or {})} for r in rows]
        result = target.batch_upsert(payload, key_fields=[info.field_id(m) for m in op["merge_on"]],
                                     typecast=typecast, use_field_ids=True)
        made = result["records"]
        # Decided from what existed before, not from the reply: a repeated upsert reports the
        # records its first attempt created as "updated".
        return {"created": [r["id"] for r in made if r["id"] not in before],
                "updated": [r["id"] for r in made if r["id"] in before],
                "written": written(made)}
    ids = [r["id"] for r in rows]
    missing = [rid for rid in ids if rid not in before]
    if missing:
        raise NotFound(f"Airtable: records {missing} not found in {info.name}.")
    # A retried delete finds the records an earlier attempt deleted already gone.
    delete_existing(target, ids)
    return {"deleted": ids}


def _create_rest(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
                 adopted: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Create the rows no earlier attempt created; the chunk's records in row order."""
    missing = [row for row, found in zip(rows, adopted, strict=True) if found is None]
    made = iter(target.batch_create([info.by_ids(r.get("fields") or {}) for r in missing],
                                    typecast=bool(op.get("typecast")), use_field_ids=True)
                if missing else [])
    chosen = [found if found is not None else next(made) for found in adopted]
    return {"created": [r["id"] for r in chosen], "written": written(chosen),
            "adopted": [r["id"] for r in adopted if r is not None]}
