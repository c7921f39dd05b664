"""Undoing an import: its created records deleted, the records it updated restored.

The undo runs as an `airtable_transaction` saga (all or nothing, in chunks, compensated on
failure), built from what each of the import's requests recorded it wrote. As with a
transaction's undo, records edited since the import wrote them refuse the undo (409 listing
them) unless it is forced.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.airtable import connections
from common.airtable import fresh_schema as airtable_schema
from common.airtable.fresh_schema import TableInfo
from common.airtable.records import read_by_ids
from common.core.access import require_role
from common.core.db import UnitOfWork
from common.core.errors import Conflict, NotFound
from common.core.identity import Identity
from common.core.models import FileImport, FileImportChunk, Saga, StoredFile
from common.files.commands import UndoImport
from common.files.rows import table_of
from common.files.schemas import ImportUndoOut
from common.sagas import service

UNDONE = "succeeded"  # the undo saga's status once the import is undone
IN_PROGRESS = {"running", "compensating"}


def undo_state(uow: UnitOfWork, job: FileImport) -> str | None:
    """The status of the import's undo saga, if it has one."""
    if not job.undo_saga_id:
        return None
    saga = uow.session.get(Saga, job.undo_saga_id)
    return saga.status if saga else None


def undo(cmd: UndoImport, uow: UnitOfWork, identity: Identity) -> ImportUndoOut:
    """Start undoing a finished import; 409 if it cannot be, or if records changed since."""
    import_id, user_id = cmd.import_id, identity.user_id
    with uow:
        job = uow.session.get(FileImport, import_id)
        if job is None:
            raise NotFound("No such import.")
        require_role(uow, user_id, job.workspace_id, "editor")
        state = undo_state(uow, job)
        if state == UNDONE:
            raise Conflict("This import has already been undone.")
        if state in IN_PROGRESS:
            raise Conflict("This import is being undone.")
        if job.status != "succeeded":
            raise Conflict(f"Only a finished import can be undone; this one is {job.status}.")
        created: list[str] = []
        written: dict[str, dict[str, Any]] = {}
        before: dict[str, dict[str, Any]] = {}
        for chunk in uow.session.scalars(select(FileImportChunk).where(
                FileImportChunk.import_id == import_id).order_by(FileImportChunk.chunk)):
            created += chunk.created_ids
            written.update(chunk.written or {})
            before.update(chunk.before or {})
        stored = uow.session.get(StoredFile, job.file_id)
        filename = stored.filename if stored else "a file"
        access = connections.for_base(uow, user_id, job.base_id, "editor")
        base_id, table, workspace_id = job.base_id, job.table, job.workspace_id
    info = table_of(airtable_schema.read(access, base_id), table)
    current = read_by_ids(access.api.table(base_id, info.id), written)
    if not cmd.force:
        changed = changed_since(info, written, current)
        if changed:
            raise Conflict("Records this import wrote have changed since; undo with force to "
                           "overwrite them.", details=changed)
    operations = _operations(info, created, written, before, current)
    saga_id = _start(uow, workspace_id, user_id, base_id, operations,
                     f"undo import of {filename} into {info.name}") if operations else None
    with uow:
        job = uow.session.get(FileImport, import_id)
        if saga_id is None:
            job.status = "undone"  # type: ignore[union-attr]  # nothing left to undo
        else:
            job.undo_saga_id = saga_id  # type: ignore[union-attr]
        uow.commit()
    return ImportUndoOut(import_id=import_id, status="undone" if saga_id is None else "undoing",
                         undo_saga_id=saga_id)


def changed_since(info: TableInfo, written: dict[str, dict[str, Any]],
                  current: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Records whose values differ from what the import wrote (or that are gone)."""
    changed: list[dict[str, Any]] = []
    for rid, fields in written.items():
        if rid not in current:
            changed.append({"table": info.name, "record_id": rid, "problem": "deleted"})
            continue
        differing = info.differing(fields, current[rid])
        if differing:
            changed.append({"table": info.name, "record_id": rid, "fields": differing})
    return changed


def _operations(info: TableInfo, created: list[str], written: dict[str, dict[str, Any]],
                before: dict[str, dict[str, Any]],
                current: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Delete what the import created, restore the fields it overwrote (records since deleted
    are left alone)."""
    operations: list[dict[str, Any]] = []
    existing = [rid for rid in created if rid in current]
    if existing:
        operations.append({"action": "delete", "table": info.id,
                           "records": [{"id": rid} for rid in existing]})
    restored = []
    for rid, old in before.items():
        fields = info.writable({k: old.get(k) for k in written.get(rid, {})})
        if rid in current and fields:
            restored.append({"id": rid, "fields": fields})
    if restored:
        operations.append({"action": "update", "table": info.id, "records": restored})
    return operations


def _start(uow: UnitOfWork, workspace_id: str, user_id: str, base_id: str,
           operations: list[dict[str, Any]], summary: str) -> str:

    return service.create(uow, "airtable_transaction", workspace_id, user_id,
                          {"base_id": base_id, "operations": operations, "summary": summary})
