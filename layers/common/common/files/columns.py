"""Which field each column of a file is written to, and which columns are left out.

A column named like a field (case-insensitive) maps to it unless the request's `mapping`
says otherwise; `null` in the mapping skips a column. Columns that map to nothing are
reported as `ignored_columns`, never dropped silently. Fields Airtable computes are never
written, so a column named like one is ignored too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from common.airtable.fresh_schema import COMPUTED as COMPUTED_TYPES
from common.files.convert import Column, field_date_order, infer_date_order

# Rows read before the first is staged, to tell each date column's day/month order.
PROFILE_ROWS = 1000


class MappingRejected(ValueError):
    """The mapping names a field or column that does not exist, or one field twice."""


class Plan:
    """The columns of one import and the field each is written to."""

    def __init__(self, fields: list[dict[str, Any]], mapping: dict[str, str | None] | None,
                 new_options: bool) -> None:
        self.fields = fields
        self.mapping = mapping or {}
        self.new_options = new_options
        self.columns: dict[str, Column | None] = {}
        self._by_name = {f["name"].lower(): f for f in fields
                         if f.get("type") not in COMPUTED_TYPES}
        self._targets: dict[str, str] = {}  # field name -> the column that writes it

    def _field(self, ref: str) -> dict[str, Any]:
        found = next((f for f in self.fields if ref in (f.get("id"), f["name"])), None) \
            or next((f for f in self.fields if f["name"].lower() == ref.lower()), None)
        if found is None:
            raise MappingRejected(f'The table has no field "{ref}"; map the column to an '
                                  "existing field or to null to skip it.")
        if found.get("type") in COMPUTED_TYPES:
            raise MappingRejected(f'The field "{found["name"]}" is computed by Airtable and '
                                  "cannot be imported into.")
        return found

    def resolve(self, column: str) -> Column | None:
        """The column's target (None: ignored), decided once per column."""
        if column in self.columns:
            return self.columns[column]
        if column in self.mapping:
            ref = self.mapping[column]
            field = self._field(ref) if ref is not None else None
        else:
            field = self._by_name.get(column.strip().lower()) if column else None
        target = None
        if field is not None:
            earlier = self._targets.get(field["name"])
            if earlier is not None:
                if column in self.mapping and earlier in self.mapping:
                    raise MappingRejected(f'Columns "{earlier}" and "{column}" both map to the '
                                          f'field "{field["name"]}".')
                if column not in self.mapping:  # a name match yields to the earlier column
                    self.columns[column] = None
                    return None
                self.columns[earlier] = None  # the mapping wins over a name match
            self._targets[field["name"]] = column
            target = Column(column, field, new_options=self.new_options)
        self.columns[column] = target
        return target

    def check(self, header: list[str], merge_on: list[str] | None) -> None:
        """Resolve every column of the header; the mapping may name only columns it has."""
        if header:
            missing = [c for c in self.mapping if c not in header]
            if missing:
                raise MappingRejected(f"The file has no column(s) {sorted(missing)} named in "
                                      "the mapping.")
        for column in header:
            if column:
                self.resolve(column)
        if merge_on and header:
            written = {c.field["name"] for c in self.columns.values() if c is not None}
            absent = [f for f in merge_on if f not in written]
            if absent:
                raise MappingRejected(f"merge_on names fields the file does not write: {absent}.")

    def profile(self, rows: Iterable[tuple[int, dict[str, Any] | None, str | None]]) -> None:
        """Decide each date column's day/month order from the values it holds."""
        values: dict[str, list[Any]] = {}
        for _, row, _ in rows:
            for name, value in (row or {}).items():
                col = self.resolve(name)
                if col is not None and col.type in ("date", "dateTime"):
                    values.setdefault(name, []).append(value)
        for name, seen in values.items():
            col = self.columns[name]
            if col is not None:
                col.date_order = infer_date_order(seen, field_date_order(col.field))

    @property
    def ignored(self) -> list[str]:
        """The columns nothing is written from, in the order they were met."""
        return [c for c, target in self.columns.items() if target is None and c]

    def written(self) -> list[Column]:
        """The columns that are written, in the order they were met."""
        return [c for c in self.columns.values() if c is not None]
