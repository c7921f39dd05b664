"""airtable_integration: verify access to a base, read its schema, snapshot it, notify.

The snapshot puts each Airtable table in a SQL table of its own (`snap_<saga>_<table id>`,
keyed by record id), one page of 100 records per logged chunk: the rows and the log entry land
in one commit, so a retried chunk never inserts twice. Compensation drops the tables it made.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, delete, select

from common.airtable import connections
from common.airtable.connections import Access
from common.airtable.fresh_schema import read as read_schema
from common.core.db import UnitOfWork
from common.core.errors import AppError
from common.core.models import AirtableSnapshot, Saga, utcnow
from common.core.tasks import Rejected, classify, failure_text
from common.sagas import log
from common.sagas.saga_log import Kind, SagaLog

PAGE = 100


def sql_table(saga_id: str, table_id: str) -> Table:
    """The SQL table holding one Airtable table's snapshot."""
    return Table(f"snap_{saga_id[:12]}_{table_id.lower()}", MetaData(),
                 Column("record_id", String(32), primary_key=True),
                 Column("created_time", String(40)),
                 Column("fields", JSON, nullable=False),
                 Column("synced_at", DateTime(timezone=True), nullable=False))


def _access(saga: Saga) -> Access:
    with UnitOfWork() as uow:
        return connections.for_base(uow, saga.created_by or "", saga.input["base_id"], "viewer")


def run_step(saga_id: str, step: int, deadline: float) -> dict[str, Any]:
    """Run step `step` (the snapshot one page at a time until `deadline`); `done` says if over."""
    with UnitOfWork() as uow:
        saga, found = log.open_step(uow, saga_id, step)
        if found.has(f"step/{step}/succeeded"):
            return {"step": step, "done": True}
    try:
        done = (_verify, _schema, _snapshot, _notify)[step](saga, found, deadline)
    except AppError as e:
        log.step_failed(saga_id, step, e.message)
        raise classify(e) from e
    except Rejected as e:
        log.step_failed(saga_id, step, str(e))
        raise
    return {"step": step, "done": done}


def _succeed(saga_id: str, step: int, output: dict[str, Any], **data: Any) -> None:
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        log.append(uow, saga, f"step/{step}/succeeded", Kind.STEP_SUCCEEDED, step=step,
                   output=output, **data)
        uow.commit()


def _verify(saga: Saga, found: SagaLog, deadline: float) -> bool:
    access = _access(saga)
    who = access.api.whoami()
    _succeed(saga.id, 0, {"connection_id": access.scope, "airtable_user_id": who.get("id")})
    return True


def _schema(saga: Saga, found: SagaLog, deadline: float) -> bool:
    schema = read_schema(_access(saga), saga.input["base_id"])
    wanted = saga.input.get("tables") or list(dict.fromkeys(
        t.id for t in schema.tables.values()))
    tables = []
    for key in wanted:
        info = schema.table(key)
        if info is None:
            raise Rejected(f"The base has no table {key!r}.")
        tables.append({"id": info.id, "name": info.name,
                       "fields": len({f["id"] for f in info.fields.values()})})
    _succeed(saga.id, 1, {"tables": tables})
    return True


def _snapshot(saga: Saga, found: SagaLog, deadline: float) -> bool:
    tables = found.output_of("step/1/succeeded")["tables"]
    access = _access(saga)
    pages = found.of(Kind.CHUNK_APPLIED, 2)
    while True:
        position = pages[-1].data if pages else {"table": 0, "offset": None, "finished": False}
        index, offset = position["table"], position["offset"]
        if position["finished"]:
            index, offset = index + 1, None
        if index >= len(tables):
            counts = {t["name"]: sum(p.data["records"] for p in pages if p.data["table"] == i)
                      for i, t in enumerate(tables)}
            _succeed(saga.id, 2, {"tables": [
                {**t, "sql_table": sql_table(saga.id, t["id"]).name, "records": counts[t["name"]]}
                for t in tables]})
            return True
        table = tables[index]
        params: dict[str, Any] = {"pageSize": PAGE}
        if offset:
            params["offset"] = offset
        target = access.api.table(saga.input["base_id"], table["id"])
        page = access.api.request("GET", target.urls.records, params=params)
        pages.append(_store_page(saga, len(pages), index, table, page))
        if time.monotonic() >= deadline:
            return False


def _store_page(saga: Saga, chunk: int, index: int, table: dict[str, Any],
                page: dict[str, Any]) -> Any:
    target = sql_table(saga.id, table["id"])
    records = page.get("records", [])
    with UnitOfWork() as uow:
        row = log.running(uow, saga.id)
        if not uow.session.scalar(select(AirtableSnapshot.id).where(
                AirtableSnapshot.sql_table == target.name)):
            target.create(uow.session.connection(), checkfirst=True)
            uow.session.add(AirtableSnapshot(
                workspace_id=row.workspace_id, saga_id=saga.id, base_id=saga.input["base_id"],
                table_id=table["id"], table_name=table["name"], sql_table=target.name))
            uow.flush()
        now = utcnow()
        if records:
            uow.session.execute(target.insert(), [
                {"record_id": r["id"], "created_time": r.get("createdTime"),
                 "fields": r.get("fields", {}), "synced_at": now} for r in records])
        snapshot = uow.session.scalar(select(AirtableSnapshot).where(
            AirtableSnapshot.sql_table == target.name))
        assert snapshot is not None
        snapshot.records += len(records)
        snapshot.complete = not page.get("offset")
        entry = log.append(uow, row, f"snapshot/{chunk}", Kind.CHUNK_APPLIED, step=2, chunk=chunk,
                           table=index, offset=page.get("offset"),
                           finished=not page.get("offset"), records=len(records))
        uow.commit()
    return entry


def _notify(saga: Saga, found: SagaLog, deadline: float) -> bool:
    snapshot = found.output_of("step/2/succeeded")
    with UnitOfWork() as uow:
        row = log.running(uow, saga.id)
        total = sum(t["records"] for t in snapshot["tables"])
        uow.add_event("airtable.integration.ready", {
            "user_id": row.created_by, "saga_id": row.id, "base_id": row.input["base_id"],
            "title": f"Base {row.input['base_id']} is connected",
            "body": f"{len(snapshot['tables'])} tables and {total} records were copied."})
        log.append(uow, row, "step/3/succeeded", Kind.STEP_SUCCEEDED, step=3,
                   output={"notified": True})
        log.finish(uow, row, "succeeded", output=snapshot)
        uow.commit()
    return True


def compensate(saga_id: str, execution: str, reason: str,
               failure: dict[str, Any] | None) -> dict[str, Any]:
    """Drop the snapshot tables this saga made; verify and schema read nothing to undo."""
    log.begin_compensation(saga_id, execution, reason, failure)
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status in log.TERMINAL:
            return {"done": True, "status": saga.status}
        found = log.read(uow, saga)
        made = list(uow.session.scalars(select(AirtableSnapshot).where(
            AirtableSnapshot.saga_id == saga_id)))
        dropped = []
        for snapshot in made:
            Table(snapshot.sql_table, MetaData()).drop(uow.session.connection(), checkfirst=True)
            dropped.append(snapshot.sql_table)
        uow.session.execute(delete(AirtableSnapshot).where(AirtableSnapshot.saga_id == saga_id))
        if any(e.step == 2 for e in found.entries) and not found.has("undo/2/done"):
            log.append(uow, saga, "undo/2/chunk", Kind.UNDO_CHUNK_DONE, step=2, chunk=0,
                       dropped=dropped)
            log.append(uow, saga, "undo/2/done", Kind.UNDO_STEP_DONE, step=2)
        status = {"failure": "compensated", "cancel": "cancelled"}.get(reason, "compensated")
        log.finish(uow, saga, status)
        uow.commit()
    return {"done": True, "status": status}


def give_up(saga_id: str, failure: dict[str, Any] | None) -> dict[str, Any]:
    """Compensation kept failing: `failed`, naming the snapshot tables left behind."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status in log.TERMINAL:
            return {"status": saga.status}
        left = [{"sql_table": name} for name in uow.session.scalars(
            select(AirtableSnapshot.sql_table).where(AirtableSnapshot.saga_id == saga_id))]
        log.finish(uow, saga, "failed", left_to_undo=left, error={
            "message": "Compensation failed; these snapshot tables are left to drop.",
            "cause": failure_text(failure), "left_to_undo": left})
        uow.commit()
    return {"status": "failed"}

