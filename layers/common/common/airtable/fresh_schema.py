"""A base's schema read fresh (sagas, dry runs, imports): table and field lookup by id or name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.airtable.connections import Access

# Field types Airtable computes: they can be neither written nor restored.
COMPUTED = {"formula", "rollup", "multipleLookupValues", "count", "autoNumber", "createdTime",
            "lastModifiedTime", "createdBy", "lastModifiedBy", "button", "aiText",
            "externalSyncSource", "manualSort"}


@dataclass(frozen=True)
class TableInfo:
    """One table: its id, name and fields keyed both ways."""

    id: str
    name: str
    fields: dict[str, dict[str, Any]]  # by id and by name

    def field(self, key: str) -> dict[str, Any] | None:
        """The field with this id or name."""
        return self.fields.get(key)

    def field_id(self, key: str) -> str:
        """The id of the field named `key` (unknown keys pass through for Airtable to refuse)."""
        found = self.fields.get(key)
        return found["id"] if found else key

    def by_ids(self, fields: dict[str, Any]) -> dict[str, Any]:
        """`fields` keyed by field id."""
        return {self.field_id(k): v for k, v in fields.items()}

    def writable(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The cells of `fields` (by id) that can be written back."""
        return {k: v for k, v in fields.items()
                if (f := self.fields.get(k)) is not None and f["type"] not in COMPUTED}

    def differing(self, was: dict[str, Any], now: dict[str, Any]) -> list[str]:
        """Names of the writable fields (by id in both) whose values differ."""
        was, now = self.writable(was), self.writable(now)
        return sorted(self.fields[f]["name"] for f in set(was) | set(now)
                      if was.get(f) != now.get(f))


@dataclass(frozen=True)
class BaseSchema:
    """Every table of a base."""

    tables: dict[str, TableInfo]  # by id and by name

    def table(self, key: str) -> TableInfo | None:
        """The table with this id or name."""
        return self.tables.get(key)


def read(access: Access, base_id: str) -> BaseSchema:
    """The schema as Airtable has it now (uncached: a saga must not act on a stale one)."""
    url = access.api.build_url("meta/bases", base_id, "tables")
    raw = access.api.request("GET", url)
    return parse(raw)


def parse(raw: dict[str, Any]) -> BaseSchema:
    """Airtable's schema JSON as lookups."""
    tables: dict[str, TableInfo] = {}
    for table in raw.get("tables", []):
        fields: dict[str, dict[str, Any]] = {}
        for field in table.get("fields", []):
            fields[field["id"]] = field
            fields.setdefault(field["name"], field)
        info = TableInfo(table["id"], table["name"], fields)
        tables[table["id"]] = info
        tables.setdefault(table["name"], info)
    return BaseSchema(tables)
