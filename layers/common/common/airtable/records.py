"""Records of a table: listing (one Airtable page per call), reads, and batched writes."""

from __future__ import annotations

from typing import Any

from common.airtable import cache
from common.airtable.connections import Access
from common.errors import AppError, ValidationFailed

RECORD_TTL = 60
BATCH = 10  # Airtable's maximum records per write


def as_record(raw: dict[str, Any]) -> dict[str, Any]:
    """Airtable's record in this API's shape."""
    return {"id": raw["id"], "created_time": raw.get("createdTime"),
            "fields": raw.get("fields", {})}


def filter_formula(filters: dict[str, Any]) -> str:
    """An AND of equalities built by pyairtable.formulas: values can never become syntax."""
    from pyairtable.formulas import AND, BLANK, EQ, Field

    if not filters:
        raise ValidationFailed("filter must name at least one field.",
                               details=[{"field": "filter", "problem": "empty object"}])
    conditions = []
    for name, value in filters.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValidationFailed("filter values must be strings, numbers, booleans or null.",
                                   details=[{"field": f"filter.{name}",
                                             "problem": "unsupported value type"}])
        conditions.append(EQ(Field(name), BLANK() if value is None else value))
    return str(conditions[0] if len(conditions) == 1 else AND(*conditions))


def list_page(access: Access, base_id: str, table: str, options: dict[str, Any],
              offset: str | None) -> cache.Cached:
    """One page of records (`{records, offset}`), cached per connection and query."""
    key = cache.entry_key(access.scope, base_id, f"records:{table}", [options, offset])

    def load() -> dict[str, Any]:
        api = access.api
        urls = api.table(base_id, table).urls
        page = api.request("GET", urls.records, fallback=("POST", urls.records_post),
                           options=options, params={"offset": offset} if offset else None)
        return {"records": [as_record(r) for r in page.get("records", [])],
                "offset": page.get("offset")}

    return cache.get_or_load(key, base_id, RECORD_TTL, load)


def get(access: Access, base_id: str, table: str, record_id: str) -> cache.Cached:
    """One record, cached."""
    key = cache.entry_key(access.scope, base_id, f"record:{table}", record_id)
    return cache.get_or_load(key, base_id, RECORD_TTL,
                             lambda: as_record(access.api.table(base_id, table).get(record_id)))


def create(access: Access, base_id: str, table: str, records: list[dict[str, Any]],
           typecast: bool) -> list[dict[str, Any]]:
    """Create any number of records, 10 per request, all or nothing.

    When a later chunk fails (say row 250 has a bad value), the rows already created are
    deleted again, so a failed call leaves the table as it was.
    """
    target = access.api.table(base_id, table)
    created: list[dict[str, Any]] = []
    with cache.invalidating(base_id):
        for start in range(0, len(records), BATCH):
            chunk = records[start:start + BATCH]
            try:
                created += target.batch_create([r["fields"] for r in chunk], typecast=typecast)
            except AppError as e:
                e.details = [*(e.details or []), {"field": f"records[{start}:{start + len(chunk)}]",
                                                  "problem": e.message}]
                _undo_create(target, created, e)
                raise
    return [as_record(r) for r in created]


def _undo_create(target: Any, created: list[dict[str, Any]], error: AppError) -> None:
    if not created:
        return
    ids = [r["id"] for r in created]
    try:
        target.batch_delete(ids)
        error.message += f" Nothing was kept: the {len(ids)} records created before were deleted."
    except AppError:
        error.message += f" The {len(ids)} records created before could not be deleted: {ids}."


def update(access: Access, base_id: str, table: str, records: list[dict[str, Any]],
           typecast: bool, replace: bool = False) -> list[dict[str, Any]]:
    """Update (or replace) records by id, 10 per request."""
    with cache.invalidating(base_id):
        updated = access.api.table(base_id, table).batch_update(
            [{"id": r["id"], "fields": r["fields"]} for r in records], replace=replace,
            typecast=typecast)
    return [as_record(r) for r in updated]


def upsert(access: Access, base_id: str, table: str, records: list[dict[str, Any]],
           merge_on: list[str], typecast: bool) -> dict[str, Any]:
    """Create or update by the `merge_on` fields, 10 per request."""
    with cache.invalidating(base_id):
        result = access.api.table(base_id, table).batch_upsert(
            records, key_fields=merge_on, typecast=typecast)
    return {"records": [as_record(r) for r in result["records"]],
            "created_ids": result["createdRecords"], "updated_ids": result["updatedRecords"]}


def write_one(access: Access, base_id: str, table: str, record_id: str, fields: dict[str, Any],
              typecast: bool, replace: bool) -> dict[str, Any]:
    """PATCH (merge) or PUT (replace) one record."""
    with cache.invalidating(base_id):
        record = access.api.table(base_id, table).update(record_id, fields, replace=replace,
                                                         typecast=typecast)
    return as_record(record)


def delete(access: Access, base_id: str, table: str, record_ids: list[str]) -> list[str]:
    """Delete records by id, 10 per request."""
    with cache.invalidating(base_id):
        deleted = access.api.table(base_id, table).batch_delete(record_ids)
    return [d["id"] for d in deleted]
