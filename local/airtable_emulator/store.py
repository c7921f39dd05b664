"""In-memory bases, tables, fields, views and records, with optional JSON persistence."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, model_not_found
from .fields import PRIMARY_FORBIDDEN, iso_timestamp, read_options
from .ids import new_id

MAX_DESCRIPTION = 20000


@dataclass
class Field:
    """One column; `options` is kept in Airtable's read format."""

    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        """Render the Airtable field model."""
        data: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.description:
            data["description"] = self.description
        if self.options is not None:
            data["options"] = self.options
        return data


@dataclass
class View:
    """A view; the emulator only has unfiltered grid views in creation order."""

    id: str
    name: str
    type: str = "grid"


@dataclass
class Record:
    """A row; `cells` maps field id to a non-empty stored value."""

    id: str
    created_time: str
    cells: dict[str, Any] = field(default_factory=dict)


@dataclass
class Table:
    """A table with its fields, views and records (records keep creation order)."""

    id: str
    name: str
    fields: list[Field]
    views: list[View]
    description: str = ""
    records: dict[str, Record] = field(default_factory=dict)

    def field(self, key: str) -> Field | None:
        """Find a field by id or exact name."""
        for candidate in self.fields:
            if key in (candidate.id, candidate.name):
                return candidate
        return None

    def view(self, key: str) -> View | None:
        """Find a view by id or name."""
        return next((v for v in self.views if key in (v.id, v.name)), None)

    def to_json(self, visible_field_ids: bool = False) -> dict[str, Any]:
        """Render the Airtable table model."""
        data: dict[str, Any] = {"id": self.id, "name": self.name,
                                "primaryFieldId": self.fields[0].id}
        if self.description:
            data["description"] = self.description
        data["fields"] = [f.to_json() for f in self.fields]
        data["views"] = []
        for view in self.views:
            rendered: dict[str, Any] = {"id": view.id, "name": view.name, "type": view.type}
            if visible_field_ids and view.type == "grid":
                rendered["visibleFieldIds"] = [f.id for f in self.fields]
            data["views"].append(rendered)
        return data


@dataclass
class Base:
    """A base: a named list of tables."""

    id: str
    name: str
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        """Find a table by id or name."""
        return next((t for t in self.tables if key in (t.id, t.name)), None)


def now_timestamp() -> str:
    """The current time in Airtable's timestamp format."""
    return iso_timestamp(datetime.now(UTC))


def check_field_name(table: Table | None, name: Any, ignore: Field | None = None) -> str:
    """Reject empty names and names already used (case-insensitively) in the table."""
    if not isinstance(name, str) or not name.strip():
        raise ApiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", "Field name must not be empty")
    taken = {f.name.lower() for f in (table.fields if table else []) if f is not ignore}
    if name.lower() in taken:
        raise ApiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f'Duplicate field name "{name}"')
    return name


def check_description(description: Any) -> str:
    """Validate an optional description (string of at most 20000 characters)."""
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "Invalid description")
    return description


def build_field(table: Table | None, spec: Any) -> Field:
    """Create a Field from an API field config (`{"name","type","description"?,"options"?}`)."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ApiError(422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE", "Field type is missing")
    name = check_field_name(table, spec.get("name"))
    return Field(id=new_id("fld"), name=name, type=spec["type"],
                 options=read_options(spec["type"], spec.get("options")),
                 description=check_description(spec.get("description")))


def build_table(base: Base, spec: Any) -> Table:
    """Create a Table (with a default grid view) from an API table config."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "Table name is required")
    if base.table(spec["name"]) is not None:
        raise ApiError(422, "DUPLICATE_TABLE_NAME", f'Table name "{spec["name"]}" already exists')
    specs = spec.get("fields")
    if not isinstance(specs, list) or not specs:
        raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "A table needs at least one field")
    table = Table(id=new_id("tbl"), name=spec["name"], fields=[],
                  views=[View(id=new_id("viw"), name="Grid view")],
                  description=check_description(spec.get("description")))
    for field_spec in specs:
        table.fields.append(build_field(table, field_spec))
    if table.fields[0].type in PRIMARY_FORBIDDEN:
        raise ApiError(422, "INVALID_FIELD_TYPE_FOR_PRIMARY_FIELD",
                       f"Field type {table.fields[0].type} cannot be the primary field")
    return table


class Store:
    """All emulated data, guarded by one re-entrant lock; persisted as JSON when a path is set."""

    def __init__(self, persist_path: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.bases: dict[str, Base] = {}
        # base id -> webhook id -> webhooks.Webhook (kept in memory only)
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.persist_path = os.fspath(persist_path) if persist_path else None

    def base(self, base_id: str) -> Base:
        """Return a base or raise the 403 Airtable uses for unknown bases."""
        base = self.bases.get(base_id)
        if base is None:
            raise model_not_found()
        return base

    def table(self, base_id: str, key: str) -> Table:
        """Return a table by id or name or raise 404 TABLE_NOT_FOUND."""
        table = self.base(base_id).table(key)
        if table is None:
            raise ApiError(404, "TABLE_NOT_FOUND",
                           f"Could not find table {key} in application {base_id}")
        return table

    def create_base(self, name: Any, tables: Any) -> Base:
        """Create a base with at least one table."""
        if not isinstance(name, str) or not name:
            raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "Base name is required")
        if not isinstance(tables, list) or not tables:
            raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "A base needs at least one table")
        base = Base(id=new_id("app"), name=name)
        for spec in tables:
            base.tables.append(build_table(base, spec))
        with self.lock:
            self.bases[base.id] = base
        return base

    def create_table(self, base_id: str, spec: Any) -> Table:
        """Add a table to an existing base."""
        base = self.base(base_id)
        table = build_table(base, spec)
        base.tables.append(table)
        return table

    def update_table(self, base_id: str, key: str, changes: Any) -> Table:
        """Rename a table and/or change its description."""
        base = self.base(base_id)
        table = self.table(base_id, key)
        if not isinstance(changes, dict) or not changes:
            raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "Nothing to update")
        if "name" in changes:
            name = changes["name"]
            other = base.table(name) if isinstance(name, str) else None
            if not isinstance(name, str) or not name or (other and other is not table):
                raise ApiError(422, "DUPLICATE_OR_EMPTY_TABLE_NAME", "Invalid table name")
            table.name = name
        if "description" in changes:
            table.description = check_description(changes["description"])
        return table

    def create_field(self, base_id: str, table_key: str, spec: Any) -> Field:
        """Append a field to a table."""
        table = self.table(base_id, table_key)
        new_field = build_field(table, spec)
        table.fields.append(new_field)
        return new_field

    def update_field(self, base_id: str, table_key: str, field_id: str, changes: Any) -> Field:
        """Rename a field and/or change its description (its type cannot change)."""
        table = self.table(base_id, table_key)
        target = table.field(field_id)
        if target is None:
            raise ApiError(404, "NOT_FOUND", f"Could not find field {field_id}")
        if not isinstance(changes, dict) or not ({"name", "description"} & changes.keys()):
            raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "Provide a name or a description")
        if "name" in changes:
            target.name = check_field_name(table, changes["name"], ignore=target)
        if "description" in changes:
            target.description = check_description(changes["description"])
        return target

    def load(self) -> None:
        """Replace the in-memory data with the persisted file, if there is one."""
        if not self.persist_path or not os.path.exists(self.persist_path):
            return
        with open(self.persist_path, encoding="utf-8") as handle:
            data = json.load(handle)
        with self.lock:
            self.bases = {b["id"]: _base_from_json(b) for b in data.get("bases", [])}

    def save(self) -> None:
        """Write all data to the persist file atomically (temp file + os.replace)."""
        if not self.persist_path:
            return
        with self.lock:
            payload = {"bases": [_base_to_json(b) for b in self.bases.values()]}
        directory = os.path.dirname(os.path.abspath(self.persist_path))
        handle, temp_path = tempfile.mkstemp(prefix=".airtable-emulator-", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(payload, out)
            os.replace(temp_path, self.persist_path)
        except BaseException:
            os.unlink(temp_path)
            raise


def _base_to_json(base: Base) -> dict[str, Any]:
    return {
        "id": base.id,
        "name": base.name,
        "tables": [
            {
                "id": t.id, "name": t.name, "description": t.description,
                "fields": [vars(f) for f in t.fields],
                "views": [vars(v) for v in t.views],
                "records": [vars(r) for r in t.records.values()],
            }
            for t in base.tables
        ],
    }


def _base_from_json(data: dict[str, Any]) -> Base:
    tables = [
        Table(
            id=t["id"], name=t["name"], description=t.get("description", ""),
            fields=[Field(**f) for f in t["fields"]],
            views=[View(**v) for v in t["views"]],
            records={r["id"]: Record(**r) for r in t["records"]},
        )
        for t in data["tables"]
    ]
    return Base(id=data["id"], name=data["name"], tables=tables)
