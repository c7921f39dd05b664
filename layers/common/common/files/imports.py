"""Imports of a file into an Airtable table, run by the file-import state machine.

`prepare` streams the file once into staged rows, matched to fields and converted to their
types (common.files.rows): a value that does not fit rejects its row there, before any
request. Each `run_chunk` writes one chunk of rows, 10 per request through the shared limiter,
committing its progress (and, for undo, what it wrote) after every request, so a retried chunk
resumes after what it already wrote instead of writing it twice. A batch Airtable still
rejects is retried row by row to find the rejected rows; they are recorded with their 1-based
row number and the rest imported.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from common.airtable import cache, connections, schema
from common.airtable import fresh_schema as airtable_schema
from common.airtable.connections import Access
from common.airtable.errors import Unanswered
from common.airtable.limiter import background
from common.airtable.records import find_created, read_matches
from common.core.access import require_role
from common.core.db import UnitOfWork
from common.core.errors import Forbidden, NotFound, ValidationFailed
from common.core.models import FileImport, FileImportChunk, FileImportFailure, StoredFile, new_id
from common.core.observability import logger
from common.core.tasks import Rejected, failure_text
from common.files import rows as import_rows
from common.files import staging, storage
from common.files.service import get_file
from common.files.undo import UNDONE, undo_state

CHUNK_ROWS = 500
BATCH = 10  # Airtable's maximum records per write
# A chunk hands back to the state machine while this much of the Lambda's time is left.
RESERVE_MS = 20_000
FAILURES_SHOWN = 1000
# Pauses before a batch that met a 5xx or a lost connection is sent again within the task.
TRANSIENT_DELAYS = (0.5, 1.0, 2.0, 4.0)


# ------------------------------------------------------------------ API side
def start(uow: UnitOfWork, user_id: str, file_id: str, spec: dict[str, Any],
          access_for: Callable[..., Access]) -> str:
    """Check the caller and the request, and record the import; returns its id."""
    row = importable(uow, user_id, file_id)
    merge_on, mapping = spec.get("merge_on"), spec.get("mapping")
    access = access_for(uow, user_id, spec["base_id"], "editor")
    job = FileImport(id=new_id(), workspace_id=row.workspace_id, file_id=row.id, user_id=user_id,
                     connection_id=access.scope, base_id=spec["base_id"], table=spec["table"],
                     sheet=spec.get("sheet"), mapping=mapping, typecast=spec.get("typecast", False),
                     merge_on=merge_on, status="running", rows_done=0, created=0, updated=0,
                     failed_count=0, chunk_size=CHUNK_ROWS)
    uow.session.add(job)
    uow.commit()
    return job.id


def importable(uow: UnitOfWork, user_id: str, file_id: str) -> StoredFile:
    """The file, if the caller may import it and its content has been checked."""
    row = get_file(uow, user_id, file_id, "editor")
    if row.status != "ready":
        raise ValidationFailed(f"The file is {row.status}; only a ready file can be imported.",
                               details=[{"field": "file_id", "problem": f"file is {row.status}"}])
    return row


def status_view(uow: UnitOfWork, job: FileImport) -> dict[str, Any]:
    """The API's import object, with the rejected rows (the first 1000)."""
    failures = uow.session.execute(
        select(FileImportFailure.row, FileImportFailure.error)
        .where(FileImportFailure.import_id == job.id)
        .order_by(FileImportFailure.row).limit(FAILURES_SHOWN))
    body = {"id": job.id, "import_id": job.id, "file_id": job.file_id,
            "workspace_id": job.workspace_id, "base_id": job.base_id, "table": job.table,
            "status": job.status, "rows_total": job.rows_total, "rows_done": job.rows_done,
            "table_name": job.table_name or job.table, "filename": _filename(uow, job),
            "created": job.created, "updated": job.updated, "failed_count": job.failed_count,
            "ignored_columns": job.ignored_columns or [],
            "failed": [{"row": r, "error": e} for r, e in failures],
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}
    if job.error:
        body["error"] = job.error
    state = undo_state(uow, job)
    if state is not None:
        body["undo"] = {"saga_id": job.undo_saga_id, "status": state}
        if state == UNDONE:
            body["status"] = "undone"
    return body


def _filename(uow: UnitOfWork, job: FileImport) -> str | None:
    stored = uow.session.get(StoredFile, job.file_id)
    return stored.filename if stored else None


# ------------------------------------------------------------------ tasks
def _job(uow: UnitOfWork, import_id: str) -> FileImport:
    job = uow.session.get(FileImport, import_id)
    if job is None:
        raise Rejected(f"import {import_id} no longer exists")
    return job


def _access(uow: UnitOfWork, job: FileImport) -> Access:
    """Resolve the importer's access again: a member removed mid-import stops it."""

    try:
        require_role(uow, job.user_id, job.workspace_id, "editor")
        return connections.for_base(uow, job.user_id, job.base_id, "editor",
                                    connection_id=job.connection_id)
    except (NotFound, Forbidden) as e:
        raise Rejected(f"The importer can no longer write to this base: {e.message}") \
            from e


def prepare(import_id: str) -> dict[str, Any]:
    """Stage the file's rows and check the fields; returns the number of chunks."""
    with background():
        return _prepare(import_id)


def _prepare(import_id: str) -> dict[str, Any]:
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        if job.chunk_offsets is not None:  # a retried prepare: already staged
            return {"import_id": job.id, "chunk": 0, "chunks": len(job.chunk_offsets)}
        source = uow.session.get(StoredFile, job.file_id)
        if source is None:
            raise Rejected("The file was deleted.")
        access = _access(uow, job)
        fmt, key, sheet, mapping = source.format, source.key, job.sheet, job.mapping
        merge_on, base_id, table = job.merge_on, job.base_id, job.table
        new_options = job.typecast
    staging_key = f"staging/{import_id}.jsonl"
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        try:
            src = import_rows.source(access, base_id, table, fmt, key, sheet, mapping,
                                     merge_on, new_options)
        except import_rows.SourceRejected as e:
            raise Rejected(str(e)) from e
        try:
            total, offsets = staging.stage((r for r, _ in src.converted()), None, out,
                                           CHUNK_ROWS)
        except ValidationFailed as e:
            raise Rejected(e.message) from e
        finally:
            src.close()
        out.flush()
        # A managed transfer streams the file in parts; put_object would read it whole.
        storage.upload_file(staging_key, out.name, "application/x-ndjson")
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        job.rows_total, job.chunk_offsets, job.staging_key = total, offsets, staging_key
        job.ignored_columns, job.table_name = src.plan.ignored, src.table.name
        uow.commit()
    return {"import_id": import_id, "chunk": 0, "chunks": len(offsets)}


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
    # The chunk books its requests in the base's queue, as background work: writes that must
    # answer an HTTP caller go first, and the import slows instead of failing.
    with background(), writer.reserved(len(rows), remaining_ms), \
            cache.invalidating(writer.base_id):
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


@dataclass
class _Sent:
    """What one request did: records created, how many updated, and for undo, what it wrote
    and what the updated records held before (by field id)."""

    created: list[str] = field(default_factory=list)
    updated: int = 0
    written: dict[str, dict[str, Any]] = field(default_factory=dict)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Writer:
    """Sends batches and commits what each request did, one request at a time."""

    def __init__(self, access: Access, job: FileImport) -> None:
        self.base_id = job.base_id
        self.workspace_id = job.workspace_id
        self.api = access.api
        self.table = access.api.table(job.base_id, job.table)
        self.typecast = job.typecast
        self.merge_on = job.merge_on
        # Cached: field ids do not change, and prepare read the schema fresh.
        self.info = import_rows.table_of(
            airtable_schema.parse(schema.base_schema(access, job.base_id).value), job.table)

    def reserved(self, rows: int, remaining_ms: Callable[[], int]) -> Any:
        """The chunk's requests booked in the base's queue, waiting for their turn while the
        task has time left."""
        return self.api.reserved(self.base_id, math.ceil(rows / BATCH),
                                 workspace_id=self.workspace_id,
                                 wait_until=time.time() + (remaining_ms() - RESERVE_MS) / 1000)

    def write(self, import_id: str, index: int, batch: list[Any]) -> None:
        """Write one batch of staged rows (rows already rejected are recorded as such)."""
        failures = [(n, e) for n, _, e in batch if e]
        good = [(n, f) for n, f, e in batch if not e]
        if not good:
            self._commit(import_id, index, len(batch), _Sent(), failures)
            return
        self._mark_pending(import_id, index, [n for n, _ in good])
        try:
            sent = self._send([f for _, f in good])
        except ValidationFailed:
            # Airtable rejects a whole batch for one bad row and writes nothing: find the row,
            # in row order so that the committed progress stays a prefix of the chunk.
            self._clear_pending(import_id, index)
            for number, fields, error in batch:
                if error:
                    self._commit(import_id, index, 1, _Sent(), [(number, error)])
                else:
                    self._write_one(import_id, index, number, fields)
            return
        self._commit(import_id, index, len(batch), sent, failures)

    def _write_one(self, import_id: str, index: int, number: int, fields: dict[str, Any]) -> None:
        self._mark_pending(import_id, index, [number])
        try:
            sent = self._send([fields])
        except ValidationFailed as e:
            self._commit(import_id, index, 1, _Sent(), [(number, e.message)])
            return
        self._commit(import_id, index, 1, sent, [])

    def _send(self, rows: list[dict[str, Any]]) -> _Sent:
        if self.merge_on:
            # What the records to be updated hold now, for undo to restore.
            before = read_matches(self.table, self.info, self.merge_on,
                                  [{"fields": f} for f in rows])
            result = self.table.batch_upsert([{"fields": f} for f in rows],
                                             key_fields=self.merge_on, typecast=self.typecast)
            updated = list(result["updatedRecords"])
            return _Sent(list(result["createdRecords"]), len(updated),
                         self._by_ids(result["records"]),
                         {rid: before[rid] for rid in updated if rid in before})
        made = self.table.batch_create(rows, typecast=self.typecast)
        return _Sent([r["id"] for r in made], 0, self._by_ids(made))

    def _by_ids(self, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {r["id"]: self.info.by_ids(r.get("fields", {})) for r in records}

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

    def _commit(self, import_id: str, index: int, consumed: int, sent: _Sent,
                failures: list[tuple[int, str]]) -> None:
        """Record one request's outcome: progress, what it wrote, counters and rejected rows."""
        with UnitOfWork() as uow:
            progress = uow.session.get(FileImportChunk, (import_id, index))
            job = uow.session.get(FileImport, import_id)
            progress.rows_done += consumed  # type: ignore[union-attr]
            progress.created_ids = [*progress.created_ids, *sent.created]  # type: ignore[union-attr]
            if sent.written:
                progress.written = {**(progress.written or {}), **sent.written}  # type: ignore[union-attr]
            if sent.before:  # the first value read is the one to restore
                progress.before = {**sent.before, **(progress.before or {})}  # type: ignore[union-attr]
            progress.pending = None  # type: ignore[union-attr]
            job.rows_done += consumed  # type: ignore[union-attr]
            job.created += len(sent.created)  # type: ignore[union-attr]
            job.updated += sent.updated  # type: ignore[union-attr]
            for number, error in failures:
                if uow.session.get(FileImportFailure, (import_id, number)) is None:
                    uow.session.add(FileImportFailure(import_id=import_id, row=number,
                                                      error=error))
                    job.failed_count += 1  # type: ignore[union-attr]
            uow.commit()

    def reconcile(self, import_id: str, index: int, pending: dict[str, Any],
                  rows: list[Any]) -> None:
        """A task died with a create in flight: adopt the records it made, if Airtable has them.

        The in-flight rows are looked up by their values among the records created since they
        were sent that no chunk of this import claims yet; when all are there they count as
        created, otherwise (Airtable writes a batch whole or not at all) they are sent again
        by the caller.
        """
        numbers = set(pending["rows"])
        in_flight = [f for n, f, e in rows if n in numbers and not e]
        if not in_flight:
            self._clear_pending(import_id, index)
            return
        with UnitOfWork() as uow:
            claimed = {i for ids in uow.session.scalars(select(FileImportChunk.created_ids).where(
                FileImportChunk.import_id == import_id)) for i in ids}
        found = find_created(self.table, in_flight, datetime.fromtimestamp(pending["at"], UTC),
                             claimed)
        adopted = [r for r in found if r is not None]
        logger.info("reconciled in-flight rows", extra={"import_id": import_id, "chunk": index,
                                                        "in_flight": len(in_flight),
                                                        "adopted": len(adopted)})
        if len(adopted) == len(in_flight):
            # Everything in flight was written: count the rows up to the last one as done.
            consumed = sum(1 for n, _, _ in rows if n <= max(numbers))
            self._commit(import_id, index, consumed,
                         _Sent([r["id"] for r in adopted], 0, self._by_ids(adopted)),
                         [(n, e) for n, _, e in rows if n <= max(numbers) and e])
        else:
            self._clear_pending(import_id, index)


def finish(import_id: str) -> dict[str, Any]:
    """Mark the import succeeded (rejected rows do not fail it) and announce it."""
    with UnitOfWork() as uow:
        job = _job(uow, import_id)
        if job.status == "running":
            failed = uow.session.scalar(select(func.count()).select_from(FileImportFailure).where(
                FileImportFailure.import_id == import_id)) or 0
            job.failed_count = failed
            job.status, job.finished_at = "succeeded", datetime.now(UTC)
            uow.add_event("file.import.finished", _event(uow, job))
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
            job.error = failure_text(error) or "The import failed."
            uow.add_event("file.import.finished", _event(uow, job))
            uow.commit()
        staging_key = job.staging_key
    if staging_key:
        storage.delete(staging_key)
    return {"import_id": import_id, "status": "failed"}


def _event(uow: UnitOfWork, job: FileImport) -> dict[str, Any]:
    return {"import_id": job.id, "file_id": job.file_id, "workspace_id": job.workspace_id,
            "user_id": job.user_id, "base_id": job.base_id, "table": job.table,
            "table_name": job.table_name or job.table, "filename": _filename(uow, job),
            "status": job.status, "rows_total": job.rows_total, "created": job.created,
            "updated": job.updated, "failed": job.failed_count, "error": job.error,
            "ignored_columns": job.ignored_columns or []}
