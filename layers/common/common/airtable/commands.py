"""Commands of the Airtable API: a route's path and query values and its body, as one object.

Every record and schema command names a base and, optionally, the connection to reach it
through (`?connection_id`; by default the caller's connection that reaches the base).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.airtable.schemas import (
    FieldSpec,
    NewRecords,
    NewTable,
    OneRecord,
    RecordQuery,
    RecordsUpdate,
    Rename,
)


@dataclass(frozen=True, kw_only=True)
class OnBase:
    """A request about one base (GET .../schema is nothing more)."""

    base_id: str
    connection_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class OnTable(OnBase):
    """A request about one table, named by id or by name."""

    table: str


@dataclass(frozen=True, kw_only=True)
class CreateTable(OnBase):
    """POST .../tables."""

    body: NewTable


@dataclass(frozen=True, kw_only=True)
class UpdateTable(OnTable):
    """PATCH .../tables/{table}."""

    body: Rename


@dataclass(frozen=True, kw_only=True)
class CreateField(OnTable):
    """POST .../fields."""

    body: FieldSpec


@dataclass(frozen=True, kw_only=True)
class UpdateField(OnTable):
    """PATCH .../fields/{field_id}."""

    field_id: str
    body: Rename


@dataclass(frozen=True, kw_only=True)
class ListRecords(OnTable):
    """GET .../records."""

    query: RecordQuery


@dataclass(frozen=True, kw_only=True)
class GetRecord(OnTable):
    """GET .../records/{record_id}."""

    record_id: str


@dataclass(frozen=True, kw_only=True)
class CreateRecords(OnTable):
    """POST .../records; the same Idempotency-Key creates them once."""

    body: NewRecords
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateRecords(OnTable):
    """PATCH .../records: updates by id, or an upsert."""

    body: RecordsUpdate


@dataclass(frozen=True, kw_only=True)
class WriteRecord(OnTable):
    """PATCH (merge) or PUT (`replace`) of one record."""

    record_id: str
    body: OneRecord
    replace: bool = False


@dataclass(frozen=True, kw_only=True)
class DeleteRecords(OnTable):
    """DELETE of one record or of several (?ids=)."""

    record_ids: tuple[str, ...]
