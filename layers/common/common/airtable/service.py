"""The Airtable service's operations, one function per route: access decided, then one call.

Each is `fn(cmd, uow, identity)`. Reads need the viewer role in the workspace of a connection
that reaches the base, writes the editor role (see `connections.for_base`). The unit of work is
open only while access is decided: no database connection is held while Airtable answers.
Reads return `Cached` (the model, and whether the cache answered: the `X-Cache` header).
"""

from __future__ import annotations

from typing import Any

from common.airtable import connections, records, schema
from common.airtable.cache import Cached
from common.airtable.commands import (
    CreateField,
    CreateRecords,
    CreateTable,
    DeleteRecords,
    GetRecord,
    ListRecords,
    OnBase,
    UpdateField,
    UpdateRecords,
    UpdateTable,
    WriteRecord,
)
from common.airtable.connections import Access
from common.airtable.schemas import (
    BaseOut,
    BaseSchemaOut,
    ConnectionOut,
    DeletedOut,
    FieldOut,
    NewConnection,
    RecordOut,
    RecordPage,
    RecordsOut,
    TableOut,
    UpsertOut,
)
from common.core import idempotency
from common.core.access import Role
from common.core.db import UnitOfWork
from common.core.identity import Identity
from common.core.schemas import Page


def _access(cmd: OnBase, uow: UnitOfWork, identity: Identity, minimum: Role) -> Access:
    with uow:
        return connections.for_base(uow, identity.user_id, cmd.base_id, minimum,
                                    cmd.connection_id)


# ------------------------------------------------------------------ connections
def add_connection(cmd: NewConnection, uow: UnitOfWork, identity: Identity) -> ConnectionOut:
    """Verify and store a connection in a workspace the caller owns."""
    with uow:
        connection = connections.create(uow, identity, name=cmd.name, token=cmd.token,
                                        use_default=cmd.use_default,
                                        default_base_id=cmd.default_base_id,
                                        workspace_id=cmd.workspace_id)
        uow.commit()
        return connection


def list_connections(workspace_id: str | None, uow: UnitOfWork,
                     identity: Identity) -> Page[ConnectionOut]:
    """Connections of the caller's workspaces (or of one)."""
    with uow:
        return Page(items=connections.list_for(uow, identity.user_id, workspace_id))


def remove_connection(connection_id: str, uow: UnitOfWork, identity: Identity) -> None:
    """Delete a connection (owners of its workspace)."""
    with uow:
        connections.delete(uow, identity.user_id, connection_id)
        uow.commit()


# ------------------------------------------------------------------ schema
def bases(connection_id: str | None, uow: UnitOfWork,
          identity: Identity) -> Cached[Page[BaseOut]]:
    """Bases every usable connection reaches (or the named one), each with the connection
    that reaches it."""
    with uow:
        usable = connections.usable(uow, identity.user_id, connection_id)
    items: dict[str, BaseOut] = {}
    hit = True
    for access in usable:
        listed = schema.bases(access)
        hit = hit and listed.hit
        for base in listed.value:
            if base["id"] not in items:
                items[base["id"]] = BaseOut(**base, connection_id=access.scope,
                                            workspace_id=access.workspace_id)
    return Cached(Page(items=list(items.values())), hit)


def base_schema(cmd: OnBase, uow: UnitOfWork, identity: Identity) -> Cached[BaseSchemaOut]:
    """A base's tables, fields and views."""
    access = _access(cmd, uow, identity, "viewer")
    return schema.base_schema(access, cmd.base_id).map(BaseSchemaOut.model_validate)


def create_table(cmd: CreateTable, uow: UnitOfWork, identity: Identity) -> TableOut:
    """A new table (editors)."""
    access = _access(cmd, uow, identity, "editor")
    return TableOut.model_validate(
        schema.create_table(access, cmd.base_id, cmd.body.model_dump(exclude_none=True)))


def update_table(cmd: UpdateTable, uow: UnitOfWork, identity: Identity) -> TableOut:
    """Rename a table or change its description (editors)."""
    access = _access(cmd, uow, identity, "editor")
    return TableOut.model_validate(
        schema.update_table(access, cmd.base_id, cmd.table, cmd.body.changes()))


def create_field(cmd: CreateField, uow: UnitOfWork, identity: Identity) -> FieldOut:
    """A new field (editors)."""
    access = _access(cmd, uow, identity, "editor")
    return FieldOut.model_validate(schema.create_field(
        access, cmd.base_id, cmd.table, cmd.body.model_dump(exclude_none=True)))


def update_field(cmd: UpdateField, uow: UnitOfWork, identity: Identity) -> FieldOut:
    """Rename a field or change its description (editors)."""
    access = _access(cmd, uow, identity, "editor")
    return FieldOut.model_validate(schema.update_field(
        access, cmd.base_id, cmd.table, cmd.field_id, cmd.body.changes()))


# ------------------------------------------------------------------ records
def list_records(cmd: ListRecords, uow: UnitOfWork, identity: Identity) -> Cached[RecordPage]:
    """One page of records."""
    access = _access(cmd, uow, identity, "viewer")
    page = records.list_page(access, cmd.base_id, cmd.table, cmd.query.options(),
                             cmd.query.offset)
    return page.map(RecordPage.model_validate)


def get_record(cmd: GetRecord, uow: UnitOfWork, identity: Identity) -> Cached[RecordOut]:
    """One record."""
    access = _access(cmd, uow, identity, "viewer")
    return records.get(access, cmd.base_id, cmd.table, cmd.record_id).map(
        RecordOut.model_validate)


def create_records(cmd: CreateRecords, uow: UnitOfWork, identity: Identity) -> RecordsOut:
    """Create records, all or nothing; the same Idempotency-Key creates them once."""
    def create() -> dict[str, Any]:
        # The idempotency store keeps the first answer as JSON.
        access = _access(cmd, uow, identity, "editor")
        rows = [r.model_dump() for r in cmd.body.records]
        return {"records": records.create(access, cmd.base_id, cmd.table, rows,
                                          cmd.body.typecast)}

    return RecordsOut.model_validate(idempotency.run_once(
        "airtable.create_records", identity.user_id, cmd.idempotency_key,
        {"base_id": cmd.base_id, "table": cmd.table, "connection_id": cmd.connection_id,
         "body": cmd.body.model_dump()}, create))


def update_records(cmd: UpdateRecords, uow: UnitOfWork,
                   identity: Identity) -> RecordsOut | UpsertOut:
    """Update records by id, or upsert them by `merge_on`."""
    access = _access(cmd, uow, identity, "editor")
    body = cmd.body
    if body.merge_on:
        rows = [r.model_dump(exclude_none=True) for r in body.records]
        return UpsertOut.model_validate(records.upsert(
            access, cmd.base_id, cmd.table, rows, body.merge_on, body.typecast))
    rows = [r.model_dump() for r in body.records]
    return RecordsOut.model_validate(
        {"records": records.update(access, cmd.base_id, cmd.table, rows, body.typecast)})


def write_record(cmd: WriteRecord, uow: UnitOfWork, identity: Identity) -> RecordOut:
    """PATCH (merge) or PUT (replace) one record."""
    access = _access(cmd, uow, identity, "editor")
    return RecordOut.model_validate(records.write_one(
        access, cmd.base_id, cmd.table, cmd.record_id, cmd.body.fields, cmd.body.typecast,
        replace=cmd.replace))


def delete_records(cmd: DeleteRecords, uow: UnitOfWork, identity: Identity) -> DeletedOut:
    """Delete records by id."""
    access = _access(cmd, uow, identity, "editor")
    return DeletedOut(deleted=records.delete(access, cmd.base_id, cmd.table,
                                             list(cmd.record_ids)))
