"""dry_run: every operation checked against the base's schema and records, nothing written."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from common.airtable.connections import Access
from common.airtable.records import read_by_ids
from common.sagas.airtable_schema import COMPUTED, BaseSchema, TableInfo
from common.sagas.airtable_schema import read as read_schema
from common.sagas.schemas import TransactionInput

TEXT = {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber", "barcode"}
NUMBER = {"number", "percent", "currency", "duration", "rating"}


def check(access: Access, body: TransactionInput) -> dict[str, Any]:
    """`{valid, operations: [{action, table, records, problems}]}` for the transaction."""
    schema = read_schema(access, body.base_id)
    created_later: set[str] = set()
    report = []
    for op in body.operations:
        problems = _problems(access, body.base_id, schema, op.model_dump(), created_later)
        report.append({"action": op.action, "table": op.table, "records": len(op.records),
                       "problems": problems})
    return {"valid": not any(r["problems"] for r in report), "operations": report}


def _problems(access: Access, base_id: str, schema: BaseSchema, op: dict[str, Any],
              created_later: set[str]) -> list[dict[str, Any]]:
    table = schema.table(op["table"])
    if table is None:
        return [{"problem": f"unknown table {op['table']!r}"}]
    problems: list[dict[str, Any]] = []
    for name in op.get("merge_on") or []:
        if table.field(name) is None:
            problems.append({"field": name, "problem": "unknown merge_on field"})
    for n, record in enumerate(op["records"]):
        for key, value in (record.get("fields") or {}).items():
            problem = _field_problem(table, key, value, bool(op.get("typecast")))
            if problem:
                problems.append({"record": n, "field": key, "problem": problem})
        if op["action"] == "upsert":
            missing = [m for m in op.get("merge_on") or [] if m not in (record.get("fields") or {})]
            problems += [{"record": n, "field": m, "problem": "merge_on field has no value"}
                         for m in missing]
    ids = [r["id"] for r in op["records"] if r.get("id")]
    if ids:
        found = read_by_ids(access.api.table(base_id, table.id), ids)
        problems += [{"record": n, "id": r["id"], "problem": "no such record in this table"}
                     for n, r in enumerate(op["records"])
                     if r.get("id") and r["id"] not in found]
    return problems


def _field_problem(table: TableInfo, key: str, value: Any, typecast: bool) -> str | None:
    field = table.field(key)
    if field is None:
        return "unknown field"
    kind = field["type"]
    if kind in COMPUTED:
        return f"{kind} fields are computed by Airtable and cannot be written"
    if value is None or typecast:
        return None
    if kind in TEXT and not isinstance(value, str):
        return f"{kind} takes a string"
    if kind in NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"{kind} takes a number"
    if kind == "checkbox" and not isinstance(value, bool):
        return "checkbox takes true or false"
    if kind == "singleSelect":
        return _choice_problem(field, [value] if isinstance(value, str) else None)
    if kind == "multipleSelects":
        return _choice_problem(field, value if isinstance(value, list) else None)
    if kind == "multipleRecordLinks" and not (
            isinstance(value, list) and all(isinstance(v, str) and v.startswith("rec")
                                            for v in value)):
        return "multipleRecordLinks takes a list of record ids"
    if kind in ("date", "dateTime") and not _is_date(value, kind):
        return f"{kind} takes an ISO 8601 {'date' if kind == 'date' else 'timestamp'}"
    return None


def _choice_problem(field: dict[str, Any], values: list[Any] | None) -> str | None:
    if values is None or not all(isinstance(v, str) for v in values):
        what = "a string" if field["type"] == "singleSelect" else "a list of strings"
        return f"{field['type']} takes {what}"
    choices = {c["name"] for c in (field.get("options") or {}).get("choices", [])}
    unknown = [v for v in values if v not in choices]
    return f"not a choice of this field: {unknown} (use typecast to add)" if unknown else None


def _is_date(value: Any, kind: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        (date.fromisoformat if kind == "date" else datetime.fromisoformat)(
            value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
