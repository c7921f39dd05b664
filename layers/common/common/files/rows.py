"""An import's rows as they will be written: read from the file, matched to fields, converted.

The import's staging and its dry run read the same rows through `source`, so what the
preview shows is what the import writes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from common.airtable import fresh_schema as airtable_schema
from common.airtable.connections import Access
from common.airtable.fresh_schema import BaseSchema, TableInfo
from common.core.errors import ValidationFailed
from common.files import formats, storage
from common.files.columns import PROFILE_ROWS, MappingRejected, Plan
from common.files.convert import convert_row
from common.files.formats import Row


class SourceRejected(Exception):
    """The file, its table or its mapping cannot be imported; the message says why (and, for
    a sheet that cannot be read, `details` offer the workbook's sheets)."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details


@dataclass
class Source:
    """The file's rows converted for one table, and what decided how."""

    table: TableInfo
    plan: Plan
    header: list[str]
    raw: Iterator[Row]
    close: Callable[[], None]
    sheets: list[str] | None = None  # an XLSX workbook's sheets, to choose from

    def converted(self) -> Iterator[tuple[Row, list[dict[str, Any]]]]:
        """Each row as written (`(number, fields, error)`) with its problems per column."""
        for number, values, error in self.raw:
            if values is None:
                yield (number, None, error), [{"column": None, "message": error}]
                continue
            fields, problems = convert_row(self.plan.resolve, values)
            if not problems and not fields and not error:
                problems = [{"column": None, "message": "The row has no values in the columns "
                             "that are imported."}]
            if problems:
                message = " ".join(p["message"] for p in problems)
                yield (number, None, message), problems
            else:
                yield (number, fields, error), []


def fields_of(table: TableInfo) -> list[dict[str, Any]]:
    """The table's fields in schema order (the first is the primary field)."""
    return list({f["id"]: f for f in table.fields.values()}.values())


def table_of(schema: BaseSchema, table: str) -> TableInfo:
    """The table by id or name, or the rejection naming it."""
    found = schema.table(table)
    if found is None:
        raise SourceRejected(f'The base has no table "{table}".')
    return found


def source(access: Access, base_id: str, table: str, fmt: str | None, key: str,
           sheet: str | None, mapping: dict[str, str | None] | None,
           merge_on: list[str] | None, new_options: bool) -> Source:
    """Open the file's rows for `table`: columns matched, dates profiled, links looked up."""

    schema = airtable_schema.read(access, base_id)  # fresh: a stale schema misconverts
    info = table_of(schema, table)
    try:
        header, rows, close, sheets = _open(fmt, key, sheet)
    except ValidationFailed as e:  # no such sheet, no header row
        sheet_choices = [d for d in e.details or () if d.get("field") == "sheet"]
        raise SourceRejected(e.message, sheet_choices or None) from e
    try:
        plan = Plan(fields_of(info), mapping, new_options)
        plan.check(header, merge_on)
        head = list(itertools.islice(rows, PROFILE_ROWS))
        plan.profile(head)
        _look_up_links(access, base_id, schema, plan)
    except MappingRejected as e:
        close()
        raise SourceRejected(str(e)) from e
    except BaseException:
        close()
        raise
    return Source(info, plan, header, itertools.chain(head, rows), close, sheets)


def _look_up_links(access: Access, base_id: str, schema: BaseSchema, plan: Plan) -> None:
    """Linked-record columns find records by the primary field value of the linked table."""
    for col in plan.written():
        if col.type != "multipleRecordLinks":
            continue
        linked = schema.table(col.options.get("linkedTableId", ""))
        if linked is None:
            continue
        primary = fields_of(linked)[0]
        records = access.api.table(base_id, linked.id).all(fields=[primary["id"]],
                                                            use_field_ids=True)
        for record in records:
            value = record.get("fields", {}).get(primary["id"])
            if value is not None:
                col.links.setdefault(str(value).strip().lower(), record["id"])


def _open(fmt: str | None, key: str, sheet: str | None) -> tuple[
        list[str], Iterator[Row], Callable[[], None], list[str] | None]:
    if fmt == "csv":
        dialect = formats.sniff_csv(storage.head(key))
        header, rows = formats.csv_rows(formats.split_lines(storage.stream(key)), dialect)
        return header, rows, lambda: None, None
    if fmt == "json":
        header, rows = formats.json_rows(storage.stream(key))
        return header, rows, lambda: None, None
    if fmt == "xlsx":
        path, _, _ = storage.download(key, ".xlsx")  # openpyxl goes by the extension
        try:
            header, rows = formats.xlsx_rows(path, sheet)
            sheets = formats.xlsx_sheets(path)
        except BaseException:
            os.unlink(path)
            raise
        return header, rows, lambda: os.unlink(path), sheets
    raise SourceRejected(f"Files of format {fmt!r} cannot be imported.")
