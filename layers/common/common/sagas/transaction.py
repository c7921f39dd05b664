"""airtable_transaction: operations applied in chunks of 10, each logged with what undoes it.

Every chunk is written in three commits: `chunk.started` (with the records' values before the
write, read fresh from Airtable), the write itself, then `chunk.applied` (ids created, updated,
deleted and the values written) or `chunk.failed`. A task that finds a chunk logged as applied
skips it, so a retried task never writes twice; compensation undoes applied chunks in reverse
and logs each undone chunk, so a retried compensation never undoes twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from common.airtable import cache, connections, records
from common.airtable.connections import Access
from common.airtable.errors import Unanswered
from common.airtable.records import BATCH
from common.db import UnitOfWork
from common.errors import AppError, NotFound
from common.models import Saga, SagaLogEntry, utcnow
from common.sagas import log
from common.sagas.airtable_schema import BaseSchema, TableInfo
from common.sagas.airtable_schema import read as read_schema
from common.sagas.errors import (
    AirtableUnavailable,
    ChunkInFlight,
    OperationFailed,
    SagaCancelled,
    failure_text,
    is_transient,
    named,
)

# A chunk started longer ago than this has certainly ended (the task Lambda's timeout is 60 s).
IN_FLIGHT = timedelta(seconds=90)
FINAL_STATUS = {"failure": "compensated", "cancel": "cancelled", "undo": "undone"}
# A chunk that meets a 5xx or a lost answer is tried again in the same invocation, after these
# pauses, before the error goes to the state machine's Retry: Step Functions counts retries
# per execution, so without this a saga's odds of running out of them grew with its size.
CHUNK_RETRY_PAUSES = (0.5, 1.0)


def _retry_here(failures: int, deadline: float) -> bool:
    """Whether the chunk that failed `failures` times in a row is tried again (after a pause)."""
    if failures > len(CHUNK_RETRY_PAUSES):
        return False
    pause = CHUNK_RETRY_PAUSES[failures - 1]
    if time.monotonic() + pause >= deadline:
        return False
    time.sleep(pause)
    return True


def chunk_count(op: dict[str, Any]) -> int:
    """How many writes of at most 10 records the operation takes."""
    return -(-len(op["records"]) // BATCH)


def _rows(op: dict[str, Any], chunk: int) -> list[dict[str, Any]]:
    return op["records"][chunk * BATCH:(chunk + 1) * BATCH]


class Run:
    """What one task invocation works with: the saga, its connection and the base's schema."""

    def __init__(self, saga: Saga, *, compensating: bool = False, translate: bool = True) -> None:
        self.saga = saga
        self.base_id: str = saga.input["base_id"]
        self.ops: list[dict[str, Any]] = saga.input["operations"]
        try:
            with UnitOfWork() as uow:
                self.access: Access = connections.for_base(
                    uow, saga.created_by or "", self.base_id, "editor")
            self.schema: BaseSchema = read_schema(self.access, self.base_id)
        except AppError as e:
            if not translate:  # a route answers with the domain error itself
                raise
            raise named(e, compensating=compensating) from e

    def table(self, op: dict[str, Any]) -> TableInfo:
        """The operation's table (an unknown one is refused as Airtable would refuse it)."""
        info = self.schema.table(op["table"])
        if info is None:
            raise OperationFailed(f"Airtable: table {op['table']!r} not found in the base.")
        return info

    def api_table(self, info: TableInfo) -> Any:
        return self.access.api.table(self.base_id, info.id)


# ------------------------------------------------------------------ reading Airtable
def read_by_ids(target: Any, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current fields (by field id) of the records that exist among `ids`."""
    from pyairtable.formulas import EQ, OR, RECORD_ID

    found: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), 50):
        group = ids[start:start + 50]
        formula = OR(*[EQ(RECORD_ID(), rid) for rid in group])
        for record in target.all(formula=str(formula), use_field_ids=True):
            found[record["id"]] = record.get("fields", {})
    return found


def read_matches(target: Any, info: TableInfo, merge_on: list[str],
                 rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records an upsert of `rows` would update: those equal on every `merge_on` field."""
    from pyairtable.formulas import AND, EQ, OR, Field

    names = [(info.field(m) or {"name": m})["name"] for m in merge_on]
    clauses = []
    for row in rows:
        fields = row.get("fields") or {}
        values = [fields.get(m, fields.get(info.field_id(m))) for m in merge_on]
        if any(v is None for v in values):
            continue
        parts = [EQ(Field(n), v) for n, v in zip(names, values, strict=True)]
        clauses.append(parts[0] if len(parts) == 1 else AND(*parts))
    if not clauses:
        return {}
    formula = clauses[0] if len(clauses) == 1 else OR(*clauses)
    return {r["id"]: r.get("fields", {})
            for r in target.all(formula=str(formula), use_field_ids=True)}


# ------------------------------------------------------------------ applying
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
            entries = log.entries(uow, saga_id)
        position = _next_chunk(run.ops, entries)
        if position is None:
            with UnitOfWork() as uow:
                saga = log.locked(uow, saga_id)
                if saga.status == "running":
                    log.finish(uow, saga, "succeeded", output=_output(run.ops, entries))
                    uow.commit()
            return {"done": True}
        try:
            _apply_chunk(run, *position, entries)
            failures = 0
        except AirtableUnavailable:
            failures += 1
            if not _retry_here(failures, deadline):
                raise
            continue  # the chunk's log now holds the failed attempt, which the retry reads
        if time.monotonic() >= deadline:
            return {"done": False}


def _next_chunk(ops: list[dict[str, Any]], entries: list[SagaLogEntry]) -> tuple[int, int] | None:
    applied = {(e.step, e.chunk) for e in entries if e.kind == "chunk.applied"}
    for i, op in enumerate(ops):
        for j in range(chunk_count(op)):
            if (i, j) not in applied:
                return i, j
    return None


def _open_attempt(entries: list[SagaLogEntry], i: int, j: int) -> SagaLogEntry | None:
    """The last start of chunk (i, j) with no outcome logged, if any."""
    started = [e for e in entries if e.kind == "chunk.started" and (e.step, e.chunk) == (i, j)]
    if not started:
        return None
    last = started[-1]
    ended = any(e.kind in ("chunk.failed", "chunk.applied") and (e.step, e.chunk) == (i, j)
                and e.data.get("attempt") == last.data["attempt"] for e in entries)
    return None if ended else last


def _apply_chunk(run: Run, i: int, j: int, entries: list[SagaLogEntry]) -> None:
    op = run.ops[i]
    info = run.table(op)
    target = run.api_table(info)
    rows = _rows(op, j)
    earlier = [e for e in entries if e.kind == "chunk.started" and (e.step, e.chunk) == (i, j)]
    attempts = len(earlier)
    try:
        # An earlier attempt (killed, or failed transiently: a reset or a 5xx may come after
        # Airtable applied the write) may have written: only the values read before the first
        # attempt are true, and records it created are adopted instead of created again.
        before = earlier[0].data["before"] if earlier else _read_before(target, info, op, rows)
        adopted = _created_by_attempts(target, info, rows, earlier[0].at,
                                       _claimed(run.ops, entries, op["table"])) \
            if earlier and op["action"] == "create" else None
    except AppError as e:
        raise named(e) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, run.saga.id)
        if saga.status != "running":
            raise SagaCancelled(f"Saga {saga.id} is {saga.status}; nothing more is applied.")
        if attempts == 0 and j == 0:
            log.append(uow, saga, f"step/{i}/started", "step.started", step=i)
        log.append(uow, saga, f"apply/{i}/{j}/started/{attempts}", "chunk.started", step=i,
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
            log.append(uow, saga, f"apply/{i}/{j}/failed/{attempts}", "chunk.failed", step=i,
                       chunk=j, attempt=attempts, error=e.message, transient=transient)
            if not transient:
                log.append(uow, saga, f"step/{i}/failed", "step.failed", step=i,
                           error=e.message)
            uow.commit()
        raise named(e) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, run.saga.id)
        log.append(uow, saga, f"apply/{i}/{j}/applied", "chunk.applied", step=i, chunk=j,
                   attempt=attempts, **result)
        if j == chunk_count(op) - 1:
            done = [e.data for e in entries if e.kind == "chunk.applied" and e.step == i]
            log.append(uow, saga, f"step/{i}/succeeded", "step.succeeded", step=i,
                       output=_step_output(op, [*done, result]))
        uow.commit()


def _read_before(target: Any, info: TableInfo, op: dict[str, Any],
                 rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if op["action"] in ("update", "delete"):
        return read_by_ids(target, [r["id"] for r in rows if r.get("id")])
    if op["action"] == "upsert":
        return read_matches(target, info, op["merge_on"], rows)
    return {}


def _write(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
           before: dict[str, dict[str, Any]]) -> dict[str, Any]:
    action, typecast = op["action"], bool(op.get("typecast"))
    if action == "create":
        made = target.batch_create([info.by_ids(r.get("fields") or {}) for r in rows],
                                   typecast=typecast, use_field_ids=True)
        return {"created": [r["id"] for r in made], "written": _written(made)}
    if action == "update":
        made = target.batch_update([{"id": r["id"], "fields": info.by_ids(r.get("fields") or {})}
                                    for r in rows], typecast=typecast, use_field_ids=True)
        return {"updated": [r["id"] for r in made], "written": _written(made)}
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
                "written": _written(made)}
    ids = [r["id"] for r in rows]
    missing = [rid for rid in ids if rid not in before]
    if missing:
        raise NotFound(f"Airtable: records {missing} not found in {info.name}.")
    # A retried delete finds the records an earlier attempt deleted already gone.
    _delete_existing(target, ids)
    return {"deleted": ids}


def _claimed(ops: list[dict[str, Any]], entries: list[SagaLogEntry], table: str) -> set[str]:
    """Records this saga's applied chunks created in `table` (never adopted twice)."""
    return {rid for e in entries if e.kind == "chunk.applied"
            and ops[e.step or 0]["table"] == table for rid in e.data.get("created", [])}


def _created_by_attempts(target: Any, info: TableInfo, rows: list[dict[str, Any]],
                         since: datetime, claimed: set[str]) -> list[dict[str, Any] | None]:
    """For each row, the record an earlier attempt created for it, if Airtable has one (found
    by its values among records created since the first attempt started, never one an applied
    chunk of this saga claims)."""
    return records.find_created(target, [info.by_ids(r.get("fields") or {}) for r in rows],
                                since, claimed, use_field_ids=True)


def _create_rest(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
                 adopted: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Create the rows no earlier attempt created; the chunk's records in row order."""
    missing = [row for row, found in zip(rows, adopted, strict=True) if found is None]
    made = iter(target.batch_create([info.by_ids(r.get("fields") or {}) for r in missing],
                                    typecast=bool(op.get("typecast")), use_field_ids=True)
                if missing else [])
    chosen = [found if found is not None else next(made) for found in adopted]
    return {"created": [r["id"] for r in chosen], "written": _written(chosen),
            "adopted": [r["id"] for r in adopted if r is not None]}


def _written(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r.get("fields", {}) for r in records}


_KINDS = {"create": ("created",), "update": ("updated",), "delete": ("deleted",),
          "upsert": ("created", "updated")}


def _step_output(op: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"action": op["action"], "table": op["table"]}
    for kind in _KINDS[op["action"]]:
        out[kind] = [rid for r in results for rid in r.get(kind, [])]
    return out


def _output(ops: list[dict[str, Any]], entries: list[SagaLogEntry]) -> dict[str, Any]:
    return {"operations": [_step_output(op, [e.data for e in entries if e.kind == "chunk.applied"
                                             and e.step == i]) for i, op in enumerate(ops)]}


# ------------------------------------------------------------------ compensating
def begin_compensation(saga_id: str, execution: str, reason: str,
                       failure: dict[str, Any] | None) -> None:
    """Log that compensation starts (once per execution) and why."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if log.has(log.entries(uow, saga_id), f"compensation/{execution}"):
            return
        error = failure_text(failure)
        log.append(uow, saga, f"compensation/{execution}", "compensation.started",
                   reason=reason, execution=execution, **({"error": error} if error else {}))
        if saga.status == "running":  # cancel and undo set it before they start
            saga.status = "compensating"
        if reason == "failure" and error and not saga.error:
            saga.error = {"message": error}
        uow.commit()


def compensate(saga_id: str, execution: str, reason: str, failure: dict[str, Any] | None,
               deadline: float) -> dict[str, Any]:
    """Undo applied chunks newest first until none is left or the time budget is spent."""
    begin_compensation(saga_id, execution, reason, failure)
    with UnitOfWork() as uow:
        saga = log.load(uow, saga_id)
        entries = log.entries(uow, saga_id)
    if saga.status in log.TERMINAL:
        return {"done": True, "status": saga.status}
    _wait_for_writes_in_flight(entries)
    ops = saga.input["operations"]
    todo = pending_undo(ops, entries)
    run = Run(saga, compensating=True) if todo else None
    failures = 0
    while todo:
        try:
            _undo_chunk(run, *todo[0])
            failures = 0
        except AirtableUnavailable:
            failures += 1
            if not _retry_here(failures, deadline):
                raise
        if time.monotonic() >= deadline:
            return {"done": False, "status": "compensating"}
        with UnitOfWork() as uow:
            todo = pending_undo(ops, log.entries(uow, saga_id))
    status = FINAL_STATUS[reason]
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        entries = log.entries(uow, saga_id)
        left = left_to_undo(saga.input["operations"], entries)
        if left:
            log.finish(uow, saga, "failed", left_to_undo=left,
                       error={"message": "Some applied changes could not be undone.",
                              "left_to_undo": left})
            uow.commit()
            return {"done": True, "status": "failed"}
        if saga.status not in log.TERMINAL:
            log.finish(uow, saga, status)
            uow.commit()
    return {"done": True, "status": status}


def _wait_for_writes_in_flight(entries: list[SagaLogEntry]) -> None:
    """A stopped execution's task may still be writing: wait until its chunk has an outcome."""
    now = utcnow()
    for e in entries:
        if e.kind == "chunk.started" and _open_attempt(entries, e.step or 0, e.chunk or 0) is e \
                and now - e.at < IN_FLIGHT:
            raise ChunkInFlight(f"Operation {e.step} chunk {e.chunk} may still be writing.")


def pending_undo(ops: list[dict[str, Any]],
                 entries: list[SagaLogEntry]) -> list[tuple[int, int, dict[str, Any]]]:
    """Chunks applied (or possibly applied) and not yet undone, newest first."""
    undone = {(e.step, e.chunk) for e in entries if e.kind == "undo.chunk.done"}
    todo: dict[tuple[int, int], dict[str, Any]] = {}
    for e in entries:
        key = (e.step or 0, e.chunk or 0)
        if key in undone:
            continue
        if e.kind == "chunk.applied":
            todo[key] = {**e.data, "before": _before(entries, *key)}
        elif e.kind == "chunk.started" and _open_attempt(entries, *key) is e:
            todo[key] = {"before": e.data["before"], "unknown": True}
        elif e.kind == "chunk.failed" and e.data.get("transient") \
                and ops[key[0]]["action"] == "create" and key not in todo:
            # A create that failed transiently may have been applied all the same (its answer
            # lost to a reset or a timeout): what it created is looked up and deleted.
            todo[key] = {"before": {}, "unknown": True}
    for (i, j), applied in todo.items():
        if applied.get("unknown") and ops[i]["action"] == "create":
            first = next(e for e in entries if e.kind == "chunk.started"
                         and (e.step, e.chunk) == (i, j))
            applied.update(since=first.at, claimed=_claimed(ops, entries, ops[i]["table"]))
    return [(i, j, todo[(i, j)]) for i, j in sorted(todo, reverse=True)]


def _before(entries: list[SagaLogEntry], i: int, j: int) -> dict[str, Any]:
    started = [e for e in entries if e.kind == "chunk.started" and (e.step, e.chunk) == (i, j)]
    # The first attempt read the true previous values; later ones reused them.
    return started[0].data["before"] if started else {}


def left_to_undo(ops: list[dict[str, Any]], entries: list[SagaLogEntry]) -> list[dict[str, Any]]:
    """What compensation has not undone: applied chunks, and creates whose outcome is unknown."""
    left = []
    for i, j, applied in pending_undo(ops, entries):
        item = {"step": i, "chunk": j, "action": ops[i]["action"], "table": ops[i]["table"],
                "records": _touched(applied)}
        if applied.get("unknown") and ops[i]["action"] == "create":
            item["problem"] = ("the write's outcome is unknown: Airtable may have created "
                               "these records; look for them by their values")
        left.append(item)
    return left


def _touched(applied: dict[str, Any]) -> list[str]:
    return [*applied.get("created", []), *applied.get("updated", []),
            *applied.get("deleted", []), *(applied.get("before", {}) if applied.get("unknown")
                                           else [])]


def _undo_chunk(run: Run, i: int, j: int, applied: dict[str, Any]) -> None:
    op = run.ops[i]
    try:
        info = run.table(op)
        target = run.api_table(info)
        with cache.invalidating(run.base_id):
            result = _undo(target, info, op, _rows(op, j), applied)
    except (AppError, OperationFailed) as e:
        error = e if isinstance(e, AppError) else NotFound(str(e))
        with UnitOfWork() as uow:
            saga = log.locked(uow, run.saga.id)
            failures = sum(1 for x in log.entries(uow, saga.id)
                           if x.kind == "undo.failed" and (x.step, x.chunk) == (i, j))
            log.append(uow, saga, f"undo/{i}/{j}/failed/{failures}", "undo.failed", step=i,
                       chunk=j, attempt=failures + 1, error=error.message)
            uow.commit()
        raise named(error, compensating=True) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, run.saga.id)
        log.append(uow, saga, f"undo/{i}/{j}/done", "undo.chunk.done", step=i, chunk=j,
                   **result)
        if j == 0:
            log.append(uow, saga, f"undo/{i}/done", "undo.step.done", step=i)
        uow.commit()


def _undo(target: Any, info: TableInfo, op: dict[str, Any], rows: list[dict[str, Any]],
          applied: dict[str, Any]) -> dict[str, Any]:
    action, before = op["action"], applied.get("before", {})
    if applied.get("unknown"):
        applied = _reconstruct(target, info, op, rows, applied)
    result: dict[str, Any] = {}
    if applied.get("created"):
        result["deleted"] = _delete_existing(target, applied["created"])
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
        still = read_by_ids(target, before)
        return {"deleted": [rid for rid in before if rid not in still]}
    if op["action"] == "create":
        found = _created_by_attempts(target, info, rows, applied["since"], applied["claimed"])
        return {"created": [r["id"] for r in found if r is not None]}
    now = read_matches(target, info, op["merge_on"], rows)
    return {"created": [rid for rid in now if rid not in before],
            "updated": [rid for rid in now if rid in before]}


def _delete_existing(target: Any, ids: list[str]) -> list[str]:
    """Delete the records; ones already gone count as deleted (a retry may find them so)."""
    for start in range(0, len(ids), BATCH):
        group = ids[start:start + BATCH]
        try:
            target.batch_delete(group)
        except NotFound:  # one of them is gone already: delete the ones still there
            still = read_by_ids(target, group)
            if still:
                target.batch_delete(list(still))
    return ids


def give_up(saga_id: str, failure: dict[str, Any] | None) -> dict[str, Any]:
    """Compensation kept failing: the saga is `failed`, listing what is left to undo."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status in log.TERMINAL and saga.status != "succeeded":
            return {"status": saga.status}
        left = left_to_undo(saga.input["operations"], log.entries(uow, saga_id))
        error = {"message": "Compensation failed; these changes are left to undo.",
                 "cause": failure_text(failure), "left_to_undo": left}
        log.finish(uow, saga, "failed", left_to_undo=left, error=error)
        uow.commit()
    return {"status": "failed", "left_to_undo": left}


# ------------------------------------------------------------------ undo preconditions
def changed_since(saga: Saga) -> list[dict[str, Any]]:
    """Records the saga wrote whose values differ now (or that are gone): undo would lose them."""
    with UnitOfWork() as uow:
        entries = log.entries(uow, saga.id)
    run = Run(saga, translate=False)
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        if e.kind != "chunk.applied":
            continue
        table = run.ops[e.step or 0]["table"]
        for rid, fields in e.data.get("written", {}).items():
            expected[(table, rid)] = fields
        for rid in e.data.get("deleted", []):
            expected.pop((table, rid), None)
    by_table: dict[str, list[str]] = {}
    for table, rid in expected:
        by_table.setdefault(table, []).append(rid)
    changed = []
    for table, ids in by_table.items():
        info = run.schema.table(table)
        if info is None:
            changed += [{"table": table, "record_id": rid, "problem": "table is gone"}
                        for rid in ids]
            continue
        current = read_by_ids(run.api_table(info), ids)
        for rid in ids:
            if rid not in current:
                changed.append({"table": table, "record_id": rid, "problem": "deleted"})
                continue
            was, now = info.writable(expected[(table, rid)]), info.writable(current[rid])
            fields = sorted(info.fields[f]["name"] for f in set(was) | set(now)
                            if was.get(f) != now.get(f))
            if fields:
                changed.append({"table": table, "record_id": rid, "fields": fields})
    return changed
