"""Exports of a table (or a view, or some fields) to a new CSV or JSON file in the workspace.

The export task pages through the table, 100 records per request through the shared limiter,
and streams the rows to a temporary file, so a large table never sits in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from common.airtable import connections, schema
from common.airtable.connections import Access
from common.airtable.limiter import background
from common.core.access import require_role, resolve_workspace
from common.core.db import UnitOfWork
from common.core.errors import Forbidden, NotFound
from common.core.models import FileExport, StoredFile, new_id
from common.core.tasks import Rejected, failure_text
from common.files import formats, storage
from common.files.service import DIRECT_PREFIX, object_key, safe_name

PAGE_SIZE = 100


def start(uow: UnitOfWork, user_id: str, spec: dict[str, Any],
          access_for: Callable[..., Access]) -> str:
    """Check the caller and record the export; returns its id."""
    workspace_id = resolve_workspace(uow, user_id, spec.get("workspace_id"), "editor")
    access = access_for(uow, user_id, spec["base_id"], "viewer")
    job = FileExport(id=new_id(), workspace_id=workspace_id, user_id=user_id,
                     connection_id=access.scope, base_id=spec["base_id"], table=spec["table"],
                     view=spec.get("view"), fields=spec.get("fields"), format=spec["format"],
                     status="running", rows=0)
    uow.session.add(job)
    uow.commit()
    return job.id


def status_view(job: FileExport) -> dict[str, Any]:
    """The API's export object."""
    body = {"id": job.id, "export_id": job.id, "workspace_id": job.workspace_id,
            "base_id": job.base_id, "table": job.table, "view": job.view, "fields": job.fields,
            "format": job.format, "status": job.status, "rows": job.rows,
            "file_id": job.file_id, "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}
    if job.error:
        body["error"] = job.error
    return body


def run(export_id: str) -> dict[str, Any]:
    """Write the export's file; a retried run writes the same file again (same id and key)."""
    with background():  # its reads give way to those that must answer an HTTP caller
        return _run(export_id)


def _run(export_id: str) -> dict[str, Any]:

    with UnitOfWork() as uow:
        job = uow.session.get(FileExport, export_id)
        if job is None or job.status != "running":
            return {"export_id": export_id, "status": job.status if job else "missing"}
        try:
            require_role(uow, job.user_id, job.workspace_id, "editor")
            access = connections.for_base(uow, job.user_id, job.base_id, "viewer",
                                          connection_id=job.connection_id)
        except (NotFound, Forbidden) as e:
            raise Rejected(f"The exporter can no longer read this base: {e.message}") \
                from e
        file_id = job.file_id or new_id()
        job.file_id = file_id
        uow.commit()
        spec = {"base_id": job.base_id, "table": job.table, "view": job.view,
                "fields": job.fields, "format": job.format, "workspace_id": job.workspace_id,
                "user_id": job.user_id}
    name = safe_name(f"{spec['table']}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{spec['format']}")
    key = object_key(DIRECT_PREFIX, spec["workspace_id"], file_id, name)
    path, rows = _write(access, spec)
    try:
        size, digest = _fingerprint(path)
        storage.upload_file(key, path, formats.MEDIA_TYPES[spec["format"]])
    finally:
        os.unlink(path)
    with UnitOfWork() as uow:
        job = uow.session.get(FileExport, export_id)
        stored = uow.session.get(StoredFile, file_id) or StoredFile(id=file_id)
        stored.owner_id, stored.workspace_id = spec["user_id"], spec["workspace_id"]
        stored.key = key
        stored.filename, stored.format = name, spec["format"]
        stored.content_type = formats.MEDIA_TYPES[spec["format"]]
        stored.size, stored.sha256, stored.status = size, digest, "ready"
        uow.session.add(stored)
        job.status, job.rows = "succeeded", rows  # type: ignore[union-attr]
        job.finished_at = datetime.now(UTC)  # type: ignore[union-attr]
        uow.add_event("file.export.finished", _event(job))  # type: ignore[arg-type]
        uow.commit()
    return {"export_id": export_id, "status": "succeeded", "rows": rows}


def _write(access: Access, spec: dict[str, Any]) -> tuple[str, int]:
    table = access.api.table(spec["base_id"], spec["table"])
    columns = spec["fields"] or _field_names(access, spec["base_id"], spec["table"])
    options: dict[str, Any] = {"page_size": PAGE_SIZE}
    if spec["view"]:
        options["view"] = spec["view"]
    if spec["fields"]:
        options["fields"] = spec["fields"]
    rows = 0
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".export",
                                     delete=False) as out:
        if spec["format"] == "csv":
            writer = csv.writer(out)
            writer.writerow([neutralised(c) for c in columns])
            for page in table.iterate(**options):
                for record in page:
                    fields = record.get("fields", {})
                    writer.writerow([csv_cell(fields.get(c)) for c in columns])
                    rows += 1
        else:
            out.write("[")
            for page in table.iterate(**options):
                for record in page:
                    fields = record.get("fields", {})
                    out.write(("," if rows else "") + "\n" + json.dumps(
                        {c: fields[c] for c in columns if c in fields}, ensure_ascii=False))
                    rows += 1
            out.write("\n]\n")
    return out.name, rows


def _field_names(access: Access, base_id: str, table: str) -> list[str]:

    tables = schema.base_schema(access, base_id).value.get("tables", [])
    found = next((t for t in tables if table in (t.get("id"), t.get("name"))), None)
    if found is None:
        raise NotFound(f'The base has no table "{table}".')
    return [f["name"] for f in found.get("fields", [])]


# A spreadsheet reads text starting with one of these as a formula (OWASP's CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell as CSV text: lists of names joined, numbers without a needless `.0`, text that
    a spreadsheet would run as a formula neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)  # a number (-5) is data, never a formula
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return neutralised(", ".join(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return neutralised(str(value))


def neutralised(text: str) -> str:
    """Text a spreadsheet shows as typed: OWASP's leading single quote before a formula start."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _fingerprint(path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as content:
        while chunk := content.read(io.DEFAULT_BUFFER_SIZE * 16):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def fail(export_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
    """Mark the export failed with the task's error and announce it."""
    with UnitOfWork() as uow:
        job = uow.session.get(FileExport, export_id)
        if job is not None and job.status == "running":
            job.status, job.finished_at = "failed", datetime.now(UTC)
            job.error = failure_text(error) or "The export failed."
            job.file_id = None
            uow.add_event("file.export.finished", _event(job))
            uow.commit()
    return {"export_id": export_id, "status": "failed"}


def _event(job: FileExport) -> dict[str, Any]:
    return {"export_id": job.id, "workspace_id": job.workspace_id, "user_id": job.user_id,
            "base_id": job.base_id, "table": job.table, "format": job.format,
            "status": job.status, "rows": job.rows, "file_id": job.file_id, "error": job.error}
