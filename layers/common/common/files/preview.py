"""An import's dry run: the columns matched to fields, the first rows as they will be written,
and every row's problems, with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.airtable.connections import Access
from common.core.db import UnitOfWork
from common.core.errors import ValidationFailed
from common.files import rows as import_rows
from common.files.imports import importable

PREVIEW_ROWS = 20
SAMPLES = 3


def dry_run(uow: UnitOfWork, user_id: str, file_id: str, spec: dict[str, Any],
            access_for: Callable[..., Access]) -> dict[str, Any]:
    """What `POST /{id}/import` would do with this file and request (API.md's dry run)."""
    stored = importable(uow, user_id, file_id)
    access = access_for(uow, user_id, spec["base_id"], "editor")
    try:
        src = import_rows.source(access, spec["base_id"], spec["table"], stored.format,
                                 stored.key, spec.get("sheet"), spec.get("mapping"),
                                 spec.get("merge_on"), bool(spec.get("typecast")))
    except import_rows.SourceRejected as e:
        raise ValidationFailed(str(e), details=e.details or [
            {"field": "mapping", "problem": str(e)}]) from e
    samples: dict[str, list[Any]] = {c: [] for c in src.header if c}
    preview: list[dict[str, Any]] = []
    total = problems_total = 0
    try:
        raw = _sampled(src.raw, samples)
        src.raw = raw
        for (number, fields, _), problems in src.converted():
            total += 1
            problems_total += 1 if problems else 0
            if len(preview) < PREVIEW_ROWS:
                preview.append({"row": number, "fields": fields or {}, "problems": problems})
    finally:
        src.close()
    columns = []
    for name in samples:
        col = src.plan.columns.get(name)
        columns.append({"column": name, "field": col.field["name"] if col else None,
                        "field_type": col.type if col else None, "sample": samples[name]})
    body = {"table": src.table.name, "columns": columns, "ignored_columns": src.plan.ignored,
            "rows_total": total, "preview": preview, "problems_total": problems_total}
    if src.sheets is not None:
        body["sheets"] = src.sheets
    return body


def _sampled(rows: Any, samples: dict[str, list[Any]]) -> Any:
    """The rows unchanged, noting each column's first non-empty values on the way."""
    for row in rows:
        for name, value in (row[1] or {}).items():
            seen = samples.setdefault(name, [])
            if len(seen) < SAMPLES and value not in (None, ""):
                seen.append(value)
        yield row
