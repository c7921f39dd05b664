"""The Airtable service's operations, one function per route, for a given caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from common.airtable import connections, records, schema
from common.airtable.cache import Cached
from common.airtable.connections import Access
from common.db import UnitOfWork

T = TypeVar("T")


def with_access(user_id: str, connection_id: str | None, action: Callable[[Access], T]) -> T:
    """Run `action` with a client for the caller's connection (or the default one)."""
    with UnitOfWork() as uow:
        access = connections.access(uow, user_id, connection_id)
    return action(access)


def add_connection(user_id: str, name: str, token: str,
                   default_base_id: str | None) -> dict[str, Any]:
    """Verify and store a connection."""
    with UnitOfWork() as uow:
        return connections.create(uow, user_id, name, token, default_base_id)


def list_connections(user_id: str) -> list[dict[str, Any]]:
    """The caller's connections."""
    with UnitOfWork() as uow:
        return connections.list_for(uow, user_id)


def remove_connection(user_id: str, connection_id: str) -> None:
    """Delete one of the caller's connections."""
    with UnitOfWork() as uow:
        connections.delete(uow, user_id, connection_id)


def list_records(user_id: str, connection_id: str | None, base_id: str, table: str,
                 options: dict[str, Any], offset: str | None) -> Cached:
    """One page of records."""
    return with_access(user_id, connection_id,
                       lambda a: records.list_page(a, base_id, table, options, offset))


def bases(user_id: str, connection_id: str | None) -> Cached:
    """The bases the connection can see."""
    return with_access(user_id, connection_id, schema.bases)


def base_schema(user_id: str, connection_id: str | None, base_id: str) -> Cached:
    """A base's tables, fields and views."""
    return with_access(user_id, connection_id, lambda a: schema.base_schema(a, base_id))
