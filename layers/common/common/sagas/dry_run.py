"""dry_run: every operation checked against the base's schema and records, nothing written."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from common.airtable.connections import Access
from common.airtable.fresh_schema import COMPUTED, BaseSchema, TableInfo
from common.airtable.fresh_schema import read as read_schema
from common.airtable.records import read_by_ids
from common.sagas.schemas import TransactionInput

TEXT = {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber", "barcode"}
NUMBER = {"number", "percent", "currency", "duration", "rating"}


def check(access: Access, body: TransactionInput) -> dict[str, Any]:
    """`{valid, operations: [{action, table, records, problems}]}` for the transaction.

    A problem carries a stable `code` (what clients match on) and `problem`, its English text
    (which may be reworded): unknown_table, unknown_merge_on_field, unknown_field,
    computed_field, not_a_string, not_a_number, not_a_boolean, not_a_list_of_strings,
    not_a_choice, not_record_ids, not_a_date, not_a_timestamp, merge_on_value_missing,
    no_such_record.
    """
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
        return [{"code": "unknown_table", "problem": f"unknown table {op['table']!r}"}]
    problems: list[dict[str, Any]] = []
    for name in op.get("merge_on") or []:
        if table.field(name) is None:
            problems.append({"field": name, "code": "unknown_merge_on_field",
                             "problem": "unknown merge_on field"})
    for n, record in enumerate(op["records"]):
        for key, value in (record.get("fields") or {}).items():
            problem = _field_problem(table, key, value, bool(op.get("typecast")))
            if problem:
                problems.append({"record": n, "field": key, **problem})
        if op["action"] == "upsert":
            missing = [m for m in op.get("merge_on") or [] if m not in (record.get("fields") or {})]
            problems += [{"record": n, "field": m, "code": "merge_on_value_missing",
                          "problem": "merge_on field has no value"} for m in missing]
    ids = [r["id"] for r in op["records"] if r.get("id")]
    if ids:
        found = read_by_ids(access.api.table(base_id, table.id), ids)
        problems += [{"record": n, "id": r["id"], "code": "no_such_record",
                      "problem": "no such record in this table"}
                     for n, r in enumerate(op["records"])
                     if r.get("id") and r["id"] not in found]
    return problems


def _problem(code: str, text: str) -> dict[str, str]:
    return {"code": code, "problem": text}


def _field_problem(table: TableInfo, key: str, value: Any,
                   typecast: bool) -> dict[str, str] | None:
    """`{code, problem}` of writing `value` to the field `key`, or None."""
    field = table.field(key)
    if field is None:
        return _problem("unknown_field", "unknown field")
    kind = field["type"]
    if kind in COMPUTED:
        return _problem("computed_field",
                        f"{kind} fields are computed by Airtable and cannot be written")
    if value is None or typecast:
        return None
    if kind in TEXT and not isinstance(value, str):
        return _problem("not_a_string", f"{kind} takes a string")
    if kind in NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        return _problem("not_a_number", f"{kind} takes a number")
    if kind == "checkbox" and not isinstance(value, bool):
        return _problem("not_a_boolean", "checkbox takes true or false")
    if kind == "singleSelect":
        return _choice_problem(field, [value] if isinstance(value, str) else None)
    if kind == "multipleSelects":
        return _choice_problem(field, value if isinstance(value, list) else None)
    if kind == "multipleRecordLinks" and not (
            isinstance(value, list) and all(isinstance(v, str) and v.startswith("rec")
                                            for v in value)):
        return _problem("not_record_ids", "multipleRecordLinks takes a list of record ids")
    if kind in ("date", "dateTime") and not _is_date(value, kind):
        if kind == "date":
            return _problem("not_a_date", "date takes an ISO 8601 date")
        return _problem("not_a_timestamp", "dateTime takes an ISO 8601 timestamp")
    return None


def _choice_problem(field: dict[str, Any], values: list[Any] | None) -> dict[str, str] | None:
    if values is None or not all(isinstance(v, str) for v in values):
        if field["type"] == "singleSelect":
            return _problem("not_a_string", "singleSelect takes a string")
        return _problem("not_a_list_of_strings", f"{field['type']} takes a list of strings")
    choices = {c["name"] for c in (field.get("options") or {}).get("choices", [])}
    unknown = [v for v in values if v not in choices]
    if not unknown:
        return None
    return _problem("not_a_choice", f"not a choice of this field: {unknown} (use typecast to add)")


def _is_date(value: Any, kind: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        (date.fromisoformat if kind == "date" else datetime.fromisoformat)(
            value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
