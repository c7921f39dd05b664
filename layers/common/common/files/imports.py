"""Imports of a file into an Airtable table, run by the file-import state machine.

`prepare` streams the file once into staged rows (mapped to fields) and checks the fields
against the table; each `run_chunk` writes one chunk of rows, 10 per request through the
shared limiter, committing its progress after every request, so a retried chunk resumes after
what it already wrote instead of writing it twice. A rejected batch is retried row by row to
find the rejected rows; they are recorded with their 1-based row number and the rest imported.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from common.airtable import cache
from common.airtable.connections import Access
from common.airtable.errors import Unanswered
from common.db import UnitOfWork
from common.errors import Forbidden, NotFound, ValidationFailed
from common.files import formats, staging, storage
from common.files.service import get_file
from common.models import FileImport, FileImportChunk, FileImportFailure, StoredFile, new_id
from common.observability import logger

CHUNK_ROWS = 500
BATCH = 10  # Airtable's maximum records per write
# A chunk hands back to the state machine while this much of the Lambda's time is left.
RESERVE_MS = 20_000
FAILURES_SHOWN = 1000
# Pauses before a batch that met a 5xx or a lost connection is sent again within the task.
TRANSIENT_DELAYS = (0.5, 1.0, 2.0, 4.0)


class ImportRejected(Exception):
    """The import cannot run (unknown fields, unreadable file); the state machine fails it."""


class ImportAccessLost(Exception):
    """The importer lost the right to write (left the workspace, connection gone)."""


# ------------------------------------------------------------------ API side
def start(uow: UnitOfWork, user_id: str, file_id: str, spec: dict[str, Any],
          access_for: Callable[..., Access]) -> str:
    """Check the caller and the request, and record the import; returns its id."""
    row = get_file(uow, user_id, file_id, "editor")
    if row.status != "ready":
        raise ValidationFailed(f"The file is {row.status}; only a ready file can be imported.",
                               details=[{"field": "file_id", "problem": f"file is {row.status}"}])
    merge_on, mapping = spec.get("merge_on"), spec.get("mapping")
    if merge_on and mapping is not None:
        unmapped = [f for f in merge_on if f not in mapping.values()]
        if unmapped:
            raise ValidationFailed("merge_on must name fields the mapping writes.", details=[
                {"field": "merge_on", "problem": f"not mapped: {unmapped}"}])
    access = access_for(uow, user_id, spec["base_id"], "editor")
    job = FileImport(id=new_id(), workspace_id=row.workspace_id, file_id=row.id, user_id=user_id,
                     connection_id=access.scope, base_id=spec["base_id"], table=spec["table"],
                     sheet=spec.get("sheet"), mapping=mapping, typecast=spec.get("typecast", False),
                     merge_on=merge_on, status="running", rows_done=0, created=0, updated=0,
                     failed_count=0, chunk_size=CHUNK_ROWS)
    uow.session.add(job)
    uow.commit()
    return job.id


def status_view(uow: UnitOfWork, job: FileImport) -> dict[str, Any]:
    """The API's import object, with the rejected rows (the first 1000)."""
    failures = uow.session.execute(
        select(FileImportFailure.row, FileImportFailure.error)
        .where(FileImportFailure.import_id == job.id)
        .order_by(FileImportFailure.row).limit(FAILURES_SHOWN))
    body = {"id": job.id, "import_id": job.id, "file_id": job.file_id,
            "workspace_id": job.workspace_id, "base_id": job.base_id, "table": job.table,
            "status": job.status, "rows_total": job.rows_total, "rows_done": job.rows_done,
            "created": job.created, "updated": job.updated, "failed_count": job.failed_count,
            "failed": [{"row": r, "error": e} for r, e in failures],
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}
    if job.error:
        body["error"] = job.error
    return body


# ------------------------------------------------------------------ tasks
def _job(uow: UnitOfWork, import_id: str) -> FileImport:
    job = uow.session.get(FileImport, import_id)
    if job is None:
        raise ImportRejected(f"import {import_id} no longer exists")
    return job


def _access(uow: UnitOfWork, job: FileImport) -> Access:
    """Resolve the importer's access again: a member removed mid-import stops it."""
    from common.airtable import connections
    from common.workspaces.access import require_role

    try:
        require_role(uow, job.user_id, job.workspace_id, "editor")
        return connections.for_base(uow, job.user_id, job.base_id, "editor",
                                    connection_id=job.connection_id)
    except (NotFound, Forbidden) as e:
        raise ImportAccessLost(f"The importer can no longer write to this base: {e.message}") \
            from e


def prepare(import_id: str) -> dict[str, Any]:
    """Stage the file's rows and check the fields; returns the number of chunks."""
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        if job.chunk_offsets is not None:  # a retried prepare: already staged
            return {"import_id": job.id, "chunk": 0, "chunks": len(job.chunk_offsets)}
        source = uow.session.get(StoredFile, job.file_id)
        if source is None:
            raise ImportRejected("The file was deleted.")
        access = _access(uow, job)
        fmt, key, sheet, mapping = source.format, source.key, job.sheet, job.mapping
        merge_on, base_id, table = job.merge_on, job.base_id, job.table
    known = _table_fields(access, base_id, table)
    staging_key = f"staging/{import_id}.jsonl"
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        try:
            header, rows, cleanup = _open_rows(fmt, key, sheet)
            try:
                targets = _check_targets(header, mapping, merge_on, known)
                total, offsets = staging.stage(_checked(rows, targets, known), mapping, out,
                                               CHUNK_ROWS)
            finally:
                cleanup()
        except ValidationFailed as e:
            raise ImportRejected(e.message) from e
        out.flush()
        # A managed transfer streams the file in parts; put_object would read it whole.
        storage.upload_file(staging_key, out.name, "application/x-ndjson")
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        job.rows_total, job.chunk_offsets, job.staging_key = total, offsets, staging_key
        uow.commit()
    return {"import_id": import_id, "chunk": 0, "chunks": len(offsets)}


def _table_fields(access: Access, base_id: str, table: str) -> set[str]:
    from common.airtable import schema

    tables = schema.base_schema(access, base_id).value.get("tables", [])
    found = next((t for t in tables if table in (t.get("id"), t.get("name"))), None)
    if found is None:
        raise ImportRejected(f'The base has no table "{table}".')
    return {f["name"] for f in found.get("fields", [])}


def _check_targets(header: list[str], mapping: dict[str, str] | None,
                   merge_on: list[str] | None, known: set[str]) -> set[str] | None:
    """The fields the file writes (None: JSON, known only per row); unknown ones -> rejected."""
    if mapping is not None:
        targets: set[str] | None = set(mapping.values())
        missing = [c for c in mapping if header and c not in header]
        if missing:
            raise ImportRejected(f"The file has no column(s) {sorted(missing)} named in mapping.")
    else:
        targets = {c for c in header if c} if header else None
    if targets is not None:
        unknown = sorted(targets - known)
        if unknown:
            raise ImportRejected(f"The table has no field(s) {unknown}; map the columns to "
                                 "existing fields with `mapping`.")
        if merge_on and not set(merge_on) <= targets:
            raise ImportRejected(f"merge_on names fields the file does not write: "
                                 f"{sorted(set(merge_on) - targets)}.")
    return targets


def _checked(rows: Any, targets: set[str] | None, known: set[str]) -> Any:
    """JSON objects name their own fields: a row naming an unknown field is rejected alone."""
    for number, values, error in rows:
        if targets is None and values is not None:
            unknown = sorted(set(values) - known)
            if unknown:
                yield number, None, f"unknown field(s) {unknown}"
                continue
        yield number, values, error


def _open_rows(fmt: str | None, key: str, sheet: str | None) -> tuple[list[str], Any,
                                                                      Callable[[], None]]:
    if fmt == "csv":
        dialect = formats.sniff_csv(storage.head(key))
        header, rows = formats.csv_rows(formats.split_lines(storage.stream(key)), dialect)
        return header, rows, lambda: None
    if fmt == "json":
        header, rows = formats.json_rows(storage.stream(key))
        return header, rows, lambda: None
    if fmt == "xlsx":
        path, _, _ = storage.download(key, ".xlsx")  # openpyxl goes by the extension
        try:
            header, rows = formats.xlsx_rows(path, sheet)
        except BaseException:
            os.unlink(path)
            raise
        return header, rows, lambda: os.unlink(path)
    raise ImportRejected(f"Files of format {fmt!r} cannot be imported.")


def run_chunk(import_id: str, index: int, remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """Write chunk `index`, resuming after its committed progress; returns where to go next."""
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        chunks = len(job.chunk_offsets or [])
        if job.status != "running" or index >= chunks:
            return {"import_id": import_id, "chunk": index, "chunks": chunks, "done": True}
        access = _access(uow, job)
        progress = uow.session.get(FileImportChunk, (import_id, index))
        if progress is None:
            progress = FileImportChunk(import_id=import_id, chunk=index, rows_done=0,
                                       created_ids=[], done=False)
            uow.session.add(progress)
            uow.commit()
        if progress.done:
            return _next(import_id, index, chunks)
        skip, pending = progress.rows_done, progress.pending
        offsets, key = list(job.chunk_offsets or []), job.staging_key or ""
        writer = _Writer(access, job)
    rows = list(staging.read_chunk(lambda s, e: storage.stream(key, s, e), offsets, index))[skip:]
    with cache.invalidating(writer.base_id):
        if pending:
            writer.reconcile(import_id, index, pending, rows)
            skip = _rows_done(import_id, index)
            rows = list(staging.read_chunk(lambda s, e: storage.stream(key, s, e), offsets,
                                           index))[skip:]
        position = 0
        while position < len(rows):
            if remaining_ms() < RESERVE_MS:
                return {"import_id": import_id, "chunk": index, "chunks": chunks, "done": False}
            batch = rows[position:position + BATCH]
            _write_retrying(writer, import_id, index, batch, started=skip + position)
            position += len(batch)
    with UnitOfWork() as uow:
        progress = uow.session.get(FileImportChunk, (import_id, index))
        progress.done = True  # type: ignore[union-attr]
        uow.commit()
    return _next(import_id, index, chunks)


def _rows_done(import_id: str, index: int) -> int:
    with UnitOfWork() as uow:
        return uow.session.get(FileImportChunk, (import_id, index)).rows_done  # type: ignore[union-attr]


def _write_retrying(writer: _Writer, import_id: str, index: int, batch: list[Any],
                    started: int) -> None:
    """Write a batch, retrying a 5xx or a lost connection here a few times.

    At Airtable's worst (one request in five failing) a chunk of 50 requests meets about ten
    such failures: failing the task for each would use up the state machine's retries. Before
    a retry, the records a lost create made are adopted (`reconcile`), and the rows already
    committed are not sent again. `started` is the chunk's committed progress before the batch
    (the caller knows it: reading it back cost a transaction per request).
    """
    for delay in (*TRANSIENT_DELAYS, None):
        try:
            writer.write(import_id, index, batch)
            return
        except Unanswered:
            if delay is None:
                raise  # the state machine retries the chunk later, resuming after its progress
        time.sleep(delay)
        with UnitOfWork() as uow:
            pending = uow.session.get(FileImportChunk, (import_id, index)).pending  # type: ignore[union-attr]
        if pending:
            writer.reconcile(import_id, index, pending, batch)
        done = _rows_done(import_id, index)
        batch, started = batch[done - started:], done
        if not batch:
            return


def _next(import_id: str, index: int, chunks: int) -> dict[str, Any]:
    return {"import_id": import_id, "chunk": index + 1, "chunks": chunks,
            "done": index + 1 >= chunks}


class _Writer:
    """Sends batches and commits what each request did, one request at a time."""

    def __init__(self, access: Access, job: FileImport) -> None:
        self.base_id = job.base_id
        self.table = access.api.table(job.base_id, job.table)
        self.typecast = job.typecast
        self.merge_on = job.merge_on

    def write(self, import_id: str, index: int, batch: list[Any]) -> None:
        """Write one batch of staged rows (rows already rejected are recorded as such)."""
        failures = [(n, e) for n, _, e in batch if e]
        good = [(n, f) for n, f, e in batch if not e]
        if not good:
            self._commit(import_id, index, len(batch), [], 0, failures)
            return
        self._mark_pending(import_id, index, [n for n, _ in good])
        try:
            created, updated = self._send([f for _, f in good])
        except ValidationFailed:
            # Airtable rejects a whole batch for one bad row and writes nothing: find the row,
            # in row order so that the committed progress stays a prefix of the chunk.
            self._clear_pending(import_id, index)
            for number, fields, error in batch:
                if error:
                    self._commit(import_id, index, 1, [], 0, [(number, error)])
                else:
                    self._write_one(import_id, index, number, fields)
            return
        self._commit(import_id, index, len(batch), created, updated, failures)

    def _write_one(self, import_id: str, index: int, number: int, fields: dict[str, Any]) -> None:
        self._mark_pending(import_id, index, [number])
        try:
            created, updated = self._send([fields])
        except ValidationFailed as e:
            self._commit(import_id, index, 1, [], 0, [(number, e.message)])
            return
        self._commit(import_id, index, 1, created, updated, [])

    def _send(self, rows: list[dict[str, Any]]) -> tuple[list[str], int]:
        if self.merge_on:
            result = self.table.batch_upsert([{"fields": f} for f in rows],
                                             key_fields=self.merge_on, typecast=self.typecast)
            return list(result["createdRecords"]), len(result["updatedRecords"])
        return [r["id"] for r in self.table.batch_create(rows, typecast=self.typecast)], 0

    def _mark_pending(self, import_id: str, index: int, numbers: list[int]) -> None:
        # Upserts are idempotent by their merge fields; only creates need to know what was
        # in flight when a task died.
        if self.merge_on:
            return
        with UnitOfWork() as uow:
            progress = uow.session.get(FileImportChunk, (import_id, index))
            progress.pending = {"rows": numbers, "at": time.time()}  # type: ignore[union-attr]
            uow.commit()

    def _clear_pending(self, import_id: str, index: int) -> None:
        if self.merge_on:
            return
        with UnitOfWork() as uow:
            progress = uow.session.get(FileImportChunk, (import_id, index))
            progress.pending = None  # type: ignore[union-attr]
            uow.commit()

    def _commit(self, import_id: str, index: int, consumed: int, created: list[str],
                updated: int, failures: list[tuple[int, str]]) -> None:
        """Record one request's outcome: progress, created ids, counters and rejected rows."""
        with UnitOfWork() as uow:
            progress = uow.session.get(FileImportChunk, (import_id, index))
            job = uow.session.get(FileImport, import_id)
            progress.rows_done += consumed  # type: ignore[union-attr]
            progress.created_ids = [*progress.created_ids, *created]  # type: ignore[union-attr]
            progress.pending = None  # type: ignore[union-attr]
            job.rows_done += consumed  # type: ignore[union-attr]
            job.created += len(created)  # type: ignore[union-attr]
            job.updated += updated  # type: ignore[union-attr]
            for number, error in failures:
                if uow.session.get(FileImportFailure, (import_id, number)) is None:
                    uow.session.add(FileImportFailure(import_id=import_id, row=number,
                                                      error=error))
                    job.failed_count += 1  # type: ignore[union-attr]
            uow.commit()

    def reconcile(self, import_id: str, index: int, pending: dict[str, Any],
                  rows: list[Any]) -> None:
        """A task died with a create in flight: adopt the records it made, if Airtable has them.

        The in-flight rows are looked up by their values among the table's records that no
        chunk of this import claims yet; when all are there they count as created, otherwise
        (Airtable writes a batch whole or not at all) they are sent again by the caller.
        """
        numbers = set(pending["rows"])
        in_flight = [(n, f) for n, f, e in rows if n in numbers and not e]
        if not in_flight:
            self._clear_pending(import_id, index)
            return
        with UnitOfWork() as uow:
            claimed = {i for ids in uow.session.scalars(select(FileImportChunk.created_ids).where(
                FileImportChunk.import_id == import_id)) for i in ids}
        formula = _lookup_formula([f for _, f in in_flight])
        candidates = [r for r in self.table.all(formula=formula) if r["id"] not in claimed] \
            if formula else []
        adopted: list[str] = []
        found_rows = 0
        for position, (_, fields) in enumerate(in_flight):
            match = next((r for r in candidates if _same(fields, r.get("fields", {}))), None)
            if match is None:
                break  # the rows of one request are all written or none: stop at the first gap
            candidates.remove(match)
            adopted.append(match["id"])
            found_rows = position + 1
        logger.info("reconciled in-flight rows", extra={"import_id": import_id, "chunk": index,
                                                        "in_flight": len(in_flight),
                                                        "adopted": len(adopted)})
        if found_rows == len(in_flight):
            # Everything in flight was written: count the rows up to the last one as done.
            consumed = sum(1 for n, _, _ in rows if n <= max(numbers))
            self._commit(import_id, index, consumed, adopted, 0,
                         [(n, e) for n, _, e in rows if n <= max(numbers) and e])
        else:
            self._clear_pending(import_id, index)


def _lookup_formula(rows: list[dict[str, Any]]) -> str | None:
    """Records that may be these rows: one text value of each row must match."""
    from pyairtable.formulas import EQ, OR, Field

    conditions = []
    for fields in rows:
        key = next((k for k, v in fields.items() if isinstance(v, str)), None)
        if key is None:
            return None  # a row without text cannot be looked up: it is sent again
        conditions.append(EQ(Field(key), fields[key]))
    return str(OR(*conditions)) if len(conditions) > 1 else str(conditions[0])


def _same(sent: dict[str, Any], stored: dict[str, Any]) -> bool:
    return all(str(stored.get(k)) == str(v) for k, v in sent.items())


def finish(import_id: str) -> dict[str, Any]:
    """Mark the import succeeded (rejected rows do not fail it) and announce it."""
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        if job.status == "running":
            failed = uow.session.scalar(select(func.count()).select_from(FileImportFailure).where(
                FileImportFailure.import_id == import_id)) or 0
            job.failed_count = failed
            job.status, job.finished_at = "succeeded", datetime.now(UTC)
            uow.add_event("file.import.finished", _event(job))
            uow.commit()
        staging_key = job.staging_key
    if staging_key:
        storage.delete(staging_key)
    return {"import_id": import_id, "status": "succeeded"}


def fail(import_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
    """Mark the import failed with the task's error and announce it."""
    with UnitOfWork() as uow:
        job = uow.session.get(FileImport, import_id)
        if job is None:
            return {"import_id": import_id, "status": "failed"}
        if job.status == "running":
            job.status, job.finished_at = "failed", datetime.now(UTC)
            job.error = cause_message(error)
            uow.add_event("file.import.finished", _event(job))
            uow.commit()
        staging_key = job.staging_key
    if staging_key:
        storage.delete(staging_key)
    return {"import_id": import_id, "status": "failed"}


def cause_message(error: dict[str, Any] | None) -> str:
    """The human part of a Step Functions error (its Cause is the Lambda's error JSON)."""
    if not error:
        return "The import failed."
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage") or cause
    except (ValueError, AttributeError):
        message = cause
    name = error.get("Error") or "Error"
    if name in {"ImportRejected", "ImportAccessLost", "ExportAccessLost"}:
        return str(message)
    return f"{name}: {message}" if message else name


def _event(job: FileImport) -> dict[str, Any]:
    return {"import_id": job.id, "file_id": job.file_id, "workspace_id": job.workspace_id,
            "user_id": job.user_id, "base_id": job.base_id, "table": job.table,
            "status": job.status, "rows_total": job.rows_total, "created": job.created,
            "updated": job.updated, "failed": job.failed_count, "error": job.error}
