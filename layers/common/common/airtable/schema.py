"""Bases, base schemas, tables and fields (Airtable's metadata API)."""

from __future__ import annotations

from typing import Any

from common.airtable import cache
from common.airtable.access import Access

SCHEMA_TTL = 300


def bases(access: Access, fresh: bool = False) -> cache.Cached:
    """The bases the connection can see (every page), cached per connection."""
    key = cache.entry_key(access.scope, "-", "bases", None)

    def load() -> list[dict[str, Any]]:
        return [{"id": b.id, "name": b.name, "permission_level": b.permission_level}
                for b in access.api.bases(force=True)]

    return cache.get_or_load(key, "-", SCHEMA_TTL, load, fresh=fresh)


def base_schema(access: Access, base_id: str) -> cache.Cached:
    """Tables with fields and views, as Airtable describes them."""
    key = cache.entry_key(access.scope, base_id, "schema", None)

    def load() -> Any:
        # Only a miss builds the client (and decrypts the connection's token).
        url = access.api.build_url("meta/bases", base_id, "tables")
        return access.api.request("GET", url, params={"include": ["visibleFieldIds"]})

    return cache.get_or_load(key, base_id, SCHEMA_TTL, load)


def create_table(access: Access, base_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Create a table (its first field is the primary field); returns it with ids."""
    url = access.api.build_url("meta/bases", base_id, "tables")
    return _write(access, base_id, "POST", url, spec)


def update_table(access: Access, base_id: str, table: str,
                 changes: dict[str, Any]) -> dict[str, Any]:
    """Rename a table or change its description."""
    url = access.api.build_url("meta/bases", base_id, "tables", table)
    return _write(access, base_id, "PATCH", url, changes)


def create_field(access: Access, base_id: str, table: str,
                 spec: dict[str, Any]) -> dict[str, Any]:
    """Add a field to a table."""
    url = access.api.build_url("meta/bases", base_id, "tables", table, "fields")
    return _write(access, base_id, "POST", url, spec)


def update_field(access: Access, base_id: str, table: str, field_id: str,
                 changes: dict[str, Any]) -> dict[str, Any]:
    """Rename a field or change its description."""
    url = access.api.build_url("meta/bases", base_id, "tables", table, "fields", field_id)
    return _write(access, base_id, "PATCH", url, changes)


def _write(access: Access, base_id: str, method: str, url: Any,
           body: dict[str, Any]) -> dict[str, Any]:
    # One request: if Airtable refuses it, nothing changed and the cache stays.
    with cache.invalidating(base_id, tracked=True):
        return access.api.request(method, url, json=body)
