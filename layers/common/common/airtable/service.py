"""The Airtable service's operations, one function per route: access decided, then one call.

Reads need the viewer role in the workspace of a connection that reaches the base, writes the
editor role (see `connections.for_base`).
"""

from __future__ import annotations

from typing import Any

from common import idempotency
from common.airtable import connections, records, schema
from common.airtable.cache import Cached
from common.airtable.connections import Access
from common.airtable.schemas import (
    FieldSpec,
    NewConnection,
    NewRecords,
    NewTable,
    OneRecord,
    RecordQuery,
    RecordsUpdate,
    Rename,
)
from common.db import UnitOfWork
from common.identity import Identity
from common.workspaces.access import Role


def _access(identity: Identity, base_id: str, minimum: Role, connection_id: str | None) -> Access:
    with UnitOfWork() as uow:
        return connections.for_base(uow, identity.user_id, base_id, minimum, connection_id)


# ------------------------------------------------------------------ connections
def add_connection(identity: Identity, cmd: NewConnection) -> dict[str, Any]:
    """Verify and store a connection in a workspace the caller owns."""
    with UnitOfWork() as uow:
        return connections.create(uow, identity, name=cmd.name, token=cmd.token,
                                  use_default=cmd.use_default,
                                  default_base_id=cmd.default_base_id,
                                  workspace_id=cmd.workspace_id)


def list_connections(identity: Identity, workspace_id: str | None) -> dict[str, Any]:
    """Connections of the caller's workspaces."""
    with UnitOfWork() as uow:
        return {"items": connections.list_for(uow, identity.user_id, workspace_id),
                "next_cursor": None}


def remove_connection(identity: Identity, connection_id: str) -> None:
    """Delete a connection (owners of its workspace)."""
    with UnitOfWork() as uow:
        connections.delete(uow, identity.user_id, connection_id)


# ------------------------------------------------------------------ schema
def bases(identity: Identity, connection_id: str | None) -> Cached:
    """Bases every usable connection reaches, each with the connection that reaches it."""
    with UnitOfWork() as uow:
        usable = connections.usable(uow, identity.user_id, connection_id)
    items: dict[str, dict[str, Any]] = {}
    hit = True
    for access in usable:
        listed = schema.bases(access)
        hit = hit and listed.hit
        for base in listed.value:
            items.setdefault(base["id"], {**base, "connection_id": access.scope,
                                          "workspace_id": access.workspace_id})
    return Cached({"items": list(items.values()), "next_cursor": None}, hit)


def base_schema(identity: Identity, base_id: str, connection_id: str | None) -> Cached:
    """A base's tables, fields and views."""
    return schema.base_schema(_access(identity, base_id, "viewer", connection_id), base_id)


def create_table(identity: Identity, base_id: str, cmd: NewTable,
                 connection_id: str | None) -> dict[str, Any]:
    """A new table (editors)."""
    access = _access(identity, base_id, "editor", connection_id)
    return schema.create_table(access, base_id, cmd.model_dump(exclude_none=True))


def update_table(identity: Identity, base_id: str, table: str, cmd: Rename,
                 connection_id: str | None) -> dict[str, Any]:
    """Rename a table or change its description (editors)."""
    access = _access(identity, base_id, "editor", connection_id)
    return schema.update_table(access, base_id, table, cmd.changes())


def create_field(identity: Identity, base_id: str, table: str, cmd: FieldSpec,
                 connection_id: str | None) -> dict[str, Any]:
    """A new field (editors)."""
    access = _access(identity, base_id, "editor", connection_id)
    return schema.create_field(access, base_id, table, cmd.model_dump(exclude_none=True))


def update_field(identity: Identity, base_id: str, table: str, field_id: str, cmd: Rename,
                 connection_id: str | None) -> dict[str, Any]:
    """Rename a field or change its description (editors)."""
    access = _access(identity, base_id, "editor", connection_id)
    return schema.update_field(access, base_id, table, field_id, cmd.changes())


# ------------------------------------------------------------------ records
def list_records(identity: Identity, base_id: str, table: str, query: RecordQuery,
                 connection_id: str | None) -> Cached:
    """One page of records."""
    access = _access(identity, base_id, "viewer", connection_id)
    return records.list_page(access, base_id, table, query.options(), query.offset)


def get_record(identity: Identity, base_id: str, table: str, record_id: str,
               connection_id: str | None) -> Cached:
    """One record."""
    access = _access(identity, base_id, "viewer", connection_id)
    return records.get(access, base_id, table, record_id)


def create_records(identity: Identity, base_id: str, table: str, cmd: NewRecords,
                   connection_id: str | None, idempotency_key: str | None) -> dict[str, Any]:
    """Create records, all or nothing; the same Idempotency-Key creates them once."""
    def create() -> dict[str, Any]:
        access = _access(identity, base_id, "editor", connection_id)
        rows = [r.model_dump() for r in cmd.records]
        return {"records": records.create(access, base_id, table, rows, cmd.typecast)}

    return idempotency.run_once(
        "airtable.create_records", identity.user_id, idempotency_key,
        {"base_id": base_id, "table": table, "connection_id": connection_id,
         "body": cmd.model_dump()}, create)


def update_records(identity: Identity, base_id: str, table: str, cmd: RecordsUpdate,
                   connection_id: str | None) -> dict[str, Any]:
    """Update records by id, or upsert them by `merge_on`."""
    access = _access(identity, base_id, "editor", connection_id)
    if cmd.merge_on:
        rows = [r.model_dump(exclude_none=True) for r in cmd.records]
        return records.upsert(access, base_id, table, rows, cmd.merge_on, cmd.typecast)
    rows = [r.model_dump() for r in cmd.records]
    return {"records": records.update(access, base_id, table, rows, cmd.typecast)}


def write_record(identity: Identity, base_id: str, table: str, record_id: str, cmd: OneRecord,
                 connection_id: str | None, replace: bool) -> dict[str, Any]:
    """PATCH (merge) or PUT (replace) one record."""
    access = _access(identity, base_id, "editor", connection_id)
    return records.write_one(access, base_id, table, record_id, cmd.fields, cmd.typecast,
                             replace=replace)


def delete_records(identity: Identity, base_id: str, table: str, record_ids: list[str],
                   connection_id: str | None) -> dict[str, Any]:
    """Delete records by id."""
    access = _access(identity, base_id, "editor", connection_id)
    return {"deleted": records.delete(access, base_id, table, record_ids)}
