"""Record operations: list (filter, sort, paginate), create, update, upsert and delete."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid_request, unknown_field
from .fields import coerce_cell, is_empty
from .formula import Context, FormulaError, compile_formula, matches, to_text
from .ids import new_id
from .store import Record, Table, now_timestamp

MAX_PAGE_SIZE = 100
MAX_BATCH = 10
OFFSET_RE = re.compile(r"^itr[A-Za-z0-9]{14}/(rec[A-Za-z0-9]{14})/(\d+)$")
INVALID_RECORDS_MESSAGE = (
    'You must provide an array of up to 10 record objects, each with an "id" ID field and a'
    ' "fields" object for cell values.'
)


@dataclass
class ListParams:
    """Normalised list-records options, from a query string or a listRecords body."""

    page_size: int = MAX_PAGE_SIZE
    max_records: int | None = None
    offset: str = ""
    view: str | None = None
    fields: list[str] | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)
    formula: str = ""
    by_field_id: bool = False
    comment_count: bool = False
    cell_format: str = "json"
    time_zone: str | None = None
    user_locale: str | None = None


def record_json(table: Table, record: Record, by_field_id: bool,
                only: set[str] | None = None, as_string: bool = False) -> dict[str, Any]:
    """Render a record; empty cells are omitted and keys follow returnFieldsByFieldId."""
    cells: dict[str, Any] = {}
    for column in table.fields:
        value = record.cells.get(column.id)
        if is_empty(value) or (only is not None and column.id not in only):
            continue
        cells[column.id if by_field_id else column.name] = (
            _display(value) if as_string else value)
    return {"id": record.id, "createdTime": record.created_time, "fields": cells}


def _display(value: Any) -> str:
    if value is True:
        return "checked"
    return to_text(value)


def resolve_field_id(table: Table, key: Any) -> str:
    """Map a field name or id to its id, or raise UNKNOWN_FIELD_NAME."""
    column = table.field(key) if isinstance(key, str) else None
    if column is None:
        raise unknown_field(str(key))
    return column.id


def list_records(table: Table, params: ListParams) -> dict[str, Any]:
    """Return one page of records plus an `offset` when more remain."""
    if not 1 <= params.page_size <= MAX_PAGE_SIZE or (
            params.max_records is not None and params.max_records < 0):
        raise invalid_request("pageSize must be 1..100 and maxRecords non-negative")
    if params.cell_format not in ("json", "string"):
        raise invalid_request(f"Invalid cellFormat {params.cell_format}")
    if params.cell_format == "string" and not (params.time_zone and params.user_locale):
        raise invalid_request("cellFormat string requires timeZone and userLocale")
    if params.view is not None and table.view(params.view) is None:
        raise ApiError(422, "VIEW_NAME_NOT_FOUND", f"View {params.view} not found")
    only = {resolve_field_id(table, key) for key in params.fields} if params.fields else None
    rows = _sorted(table, _filtered(table, params.formula), params.sort)
    start, served = _decode_offset(params.offset, rows)
    limit = params.page_size
    if params.max_records is not None:
        limit = max(min(limit, params.max_records - served), 0)
    page = rows[start:start + limit]
    body: dict[str, Any] = {"records": []}
    for record in page:
        rendered = record_json(table, record, params.by_field_id, only,
                               as_string=params.cell_format == "string")
        if params.comment_count:
            rendered["commentCount"] = 0
        body["records"].append(rendered)
    next_index, total_served = start + len(page), served + len(page)
    capped = params.max_records is not None and total_served >= params.max_records
    if next_index < len(rows) and not capped:
        body["offset"] = f"{new_id('itr')}/{rows[next_index].id}/{total_served}"
    return body


def _decode_offset(offset: str, rows: list[Record]) -> tuple[int, int]:
    """Turn an offset token into (index of next record, records served so far)."""
    if not offset:
        return 0, 0
    found = OFFSET_RE.match(offset)
    positions = {record.id: index for index, record in enumerate(rows)}
    if not found or found.group(1) not in positions:
        raise ApiError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")
    return positions[found.group(1)], int(found.group(2))


def _filtered(table: Table, formula: str) -> list[Record]:
    records = list(table.records.values())
    if not formula:
        return records

    def resolve(name: str) -> tuple[str, str] | None:
        column = table.field(name)
        return (column.id, column.type) if column else None

    try:
        tree = compile_formula(formula, resolve)
    except FormulaError as error:
        raise ApiError(
            422, "INVALID_FILTER_BY_FORMULA",
            f"The formula for filtering records is invalid: {error}",
        ) from None
    return [r for r in records
            if matches(tree, Context(r.id, r.cells, r.created_time))]


def _sorted(table: Table, records: list[Record], sort: list[tuple[str, str]]) -> list[Record]:
    keys = []
    for key, direction in sort:
        column = table.field(key)
        if column is None:
            raise ApiError(422, "UNKNOWN_FIELD_NAME", f"Could not find a field named {key}")
        if direction not in ("asc", "desc"):
            raise invalid_request(f"Invalid sort direction {direction}")
        keys.append((column.id, direction == "desc"))
    # Stable sorts applied from the least to the most significant key.
    for field_id, descending in reversed(keys):
        records = sorted(records, key=lambda r, f=field_id: _sort_key(r.cells.get(f)),
                         reverse=descending)
    return records


def _sort_key(value: Any) -> tuple[Any, ...]:
    # Blanks sort first ascending; numbers before text so mixed columns never compare str/float.
    if is_empty(value):
        return (0,)
    if isinstance(value, (bool, int, float)):
        return (1, 0, float(value), "")
    return (1, 1, 0.0, to_text(value).casefold())


def _coerce_fields(table: Table, fields: Any, typecast: bool) -> dict[str, Any]:
    """Validate a `fields` object; returns {field id: value or None (clear)}."""
    if not isinstance(fields, dict):
        raise ApiError(422, "INVALID_REQUEST_MISSING_FIELDS",
                       'Could not find field "fields" in the request body')
    coerced: dict[str, Any] = {}
    for key, value in fields.items():
        column = table.field(key)
        if column is None:
            raise unknown_field(key)
        coerced[column.id] = coerce_cell(column, value, typecast)
    return coerced


def _apply(record: Record, cells: dict[str, Any], replace: bool) -> None:
    if replace:
        record.cells = {}
    for field_id, value in cells.items():
        if value is None:
            record.cells.pop(field_id, None)
        else:
            record.cells[field_id] = value


def _new_record(table: Table, cells: dict[str, Any]) -> Record:
    record = Record(id=new_id("rec"), created_time=now_timestamp())
    _apply(record, cells, replace=True)
    table.records[record.id] = record
    return record


def _flag(body: dict[str, Any], key: str) -> bool:
    return bool(body.get(key, False))


def _batch(body: dict[str, Any], verb: str) -> list[Any]:
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise ApiError(422, "INVALID_RECORDS", INVALID_RECORDS_MESSAGE)
    if len(records) > MAX_BATCH:
        raise ApiError(
            422, "INVALID_RECORDS",
            f"A maximum of {MAX_BATCH} records can be {verb} per request but you have provided"
            f" {len(records)}.",
        )
    if not all(isinstance(item, dict) for item in records):
        raise ApiError(422, "INVALID_RECORDS", INVALID_RECORDS_MESSAGE)
    return records


def create_records(table: Table, body: dict[str, Any]) -> dict[str, Any]:
    """POST create: single (`fields`) or batch (`records`) form."""
    typecast, by_id = _flag(body, "typecast"), _flag(body, "returnFieldsByFieldId")
    if "records" not in body:
        cells = _coerce_fields(table, body.get("fields"), typecast)
        return record_json(table, _new_record(table, cells), by_id)
    # Validate every record before creating any, so a bad item leaves the table untouched.
    planned = [_coerce_fields(table, item.get("fields"), typecast)
               for item in _batch(body, "created")]
    created = [_new_record(table, cells) for cells in planned]
    return {"records": [record_json(table, r, by_id) for r in created]}


def get_record(table: Table, record_id: str) -> Record:
    """Find a record or raise 404 MODEL_ID_NOT_FOUND."""
    record = table.records.get(record_id)
    if record is None:
        raise ApiError(404, "MODEL_ID_NOT_FOUND", "Record not found")
    return record


def update_record(table: Table, record_id: str, body: dict[str, Any],
                  replace: bool) -> dict[str, Any]:
    """PATCH (merge) or PUT (replace) one record."""
    record = get_record(table, record_id)
    cells = _coerce_fields(table, body.get("fields"), _flag(body, "typecast"))
    _apply(record, cells, replace)
    return record_json(table, record, _flag(body, "returnFieldsByFieldId"))


def update_records(table: Table, body: dict[str, Any], replace: bool) -> dict[str, Any]:
    """Batch PATCH/PUT, including performUpsert."""
    typecast, by_id = _flag(body, "typecast"), _flag(body, "returnFieldsByFieldId")
    items = _batch(body, "updated")
    upsert = body.get("performUpsert")
    merge_on = _merge_fields(table, upsert) if upsert is not None else None
    plan: list[tuple[Record | None, dict[str, Any]]] = []
    for item in items:
        cells = _coerce_fields(table, item.get("fields"), typecast)
        if "id" in item:
            if item["id"] not in table.records:
                raise ApiError(422, "ROW_DOES_NOT_EXIST",
                               f"Record ID {item['id']} does not exist in this table")
            plan.append((table.records[item["id"]], cells))
        elif merge_on is None:
            raise ApiError(422, "INVALID_RECORDS", INVALID_RECORDS_MESSAGE)
        else:
            plan.append((_upsert_match(table, merge_on, cells), cells))
    results, created, updated = [], [], []
    for record, cells in plan:
        if record is None:
            record = _new_record(table, cells)
            created.append(record.id)
        else:
            _apply(record, cells, replace)
            updated.append(record.id)
        results.append(record_json(table, record, by_id))
    body_out: dict[str, Any] = {"records": results}
    if merge_on is not None:
        body_out.update(createdRecords=created, updatedRecords=updated)
    return body_out


def _merge_fields(table: Table, upsert: Any) -> list[str]:
    keys = upsert.get("fieldsToMergeOn") if isinstance(upsert, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= 3:
        raise invalid_request("performUpsert.fieldsToMergeOn must list 1 to 3 fields")
    return [resolve_field_id(table, key) for key in keys]


def _upsert_match(table: Table, merge_on: list[str], cells: dict[str, Any]) -> Record | None:
    """Find the single record matching the merge keys; None means "create"."""
    wanted = {field_id: cells.get(field_id) for field_id in merge_on}
    if any(value is None for value in wanted.values()):
        return None  # A blank merge key never matches (observed: such records are created).
    found = [r for r in table.records.values()
             if all(r.cells.get(f) == v for f, v in wanted.items())]
    if len(found) > 1:
        raise invalid_request(
            f"performUpsert matched {len(found)} records; fieldsToMergeOn must be unique")
    return found[0] if found else None


def delete_records(table: Table, record_ids: list[str]) -> dict[str, Any]:
    """Batch DELETE by `records[]` query values."""
    if not record_ids or len(record_ids) > MAX_BATCH:
        raise ApiError(422, "INVALID_RECORDS", "Provide between 1 and 10 record ids to delete")
    for record_id in record_ids:
        get_record(table, record_id)
    for record_id in record_ids:
        table.records.pop(record_id, None)
    return {"records": [{"id": rid, "deleted": True} for rid in record_ids]}
