"""The file-import machine in moto's interpreter, its task Lambda called in this process.

Real: statemachines/file_import.asl.json (Retry by error name, the chunk loop), the task Lambda
functions/file_jobs/app.py and everything it calls, the database, S3 (moto), the Airtable
emulator behind pyairtable and the shared limiter. A fault makes one write request end the
way a dying Lambda would, before or after Airtable received it; the machine retries the chunk.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from local.airtable_emulator import AirtableEmulator
from tests.statemachines.conftest import TOKEN, _Context, _error
from tests.statemachines.harness import handler_of, member, moto_for_tasks

PEOPLE = [{"name": "Name", "type": "singleLineText"},
          {"name": "Score", "type": "number", "options": {"precision": 0}}]
BUCKET = "file-import-tests"


class Imports:
    """What a test drives: a member, fresh bases, and faults on the write requests."""

    def __init__(self, emulator: AirtableEmulator, user_id: str, bases: list[str]) -> None:
        self.emulator, self.user_id, self.bases = emulator, user_id, bases
        # write-request number (1-based, counted per test) -> "before" or "after" the send
        self.faults: dict[int, str] = {}
        self.sends = 0

    def start(self, rows: int, **options: Any) -> tuple[str, str]:
        """Upload `rows` people as CSV and start importing them; returns (import id, base)."""
        from common.core.aws import client
        from common.core.db import UnitOfWork
        from common.core.identity import Identity
        from common.core.models import StoredFile, Workspace
        from common.files import jobs
        from common.files.commands import ImportFile
        from common.files.schemas import ImportIn

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Name", "Score"])
        writer.writerows([f"Person {i:04}", i] for i in range(1, rows + 1))
        data = out.getvalue().encode()
        key = f"files/test/{time.time_ns()}/people.csv"
        client("s3").put_object(Bucket=BUCKET, Key=key, Body=data)
        with UnitOfWork() as uow:
            workspace = uow.session.query(Workspace).filter_by(personal_of=self.user_id).one()
            stored = StoredFile(owner_id=self.user_id, workspace_id=workspace.id, key=key,
                                filename="people.csv", content_type="text/csv", format="csv",
                                size=len(data), status="ready")
            uow.session.add(stored)
            uow.commit()
            file_id = stored.id
        base_id = self.bases.pop()
        started = jobs.start_import(ImportFile(file_id=file_id, body=ImportIn(
            base_id=base_id, table="People", typecast=True, **options)), UnitOfWork(),
            Identity(user_id=self.user_id, role="member"))
        return started.import_id, base_id

    def wait(self, import_id: str, timeout: float = 120) -> dict[str, Any]:
        """The import once it has ended, as GET /api/files/imports/{id} shows it."""
        from common.core.db import UnitOfWork
        from common.core.models import FileImport
        from common.files.imports import status_view

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with UnitOfWork() as uow:
                status = status_view(uow, uow.session.get(FileImport, import_id))
            if status["status"] != "running":
                return status
            time.sleep(0.1)
        raise AssertionError(f"import {import_id} still running after {timeout}s")

    def names(self, base_id: str) -> list[str]:
        """The Name of every record the emulator holds, in creation order."""
        table = self.emulator.store.table(base_id, "People")
        field = table.field("Name").id  # type: ignore[union-attr]
        return [r.cells[field] for r in table.records.values()]


class Dropped(Exception):
    """The connection died mid-request (what a retried task looks like from inside)."""


@pytest.fixture(scope="module")
def imports(database_url: str) -> Iterator[Imports]:
    """moto with the file-import machine, the emulator, a member with the default connection."""
    from moto.awslambda.models import LambdaFunction

    from common.airtable.client import shared_limiter
    from common.core.errors import UpstreamError
    from common.core.settings import get_settings
    from common.files import imports as module

    emulator = AirtableEmulator(tokens={TOKEN: "usrFILES000000001"}, rate_limit=None).start()
    original_send = module._Writer._send
    try:
        with moto_for_tasks("file", database_url, emulator.url, TOKEN,
                            UPLOADS_BUCKET_NAME=BUCKET) as aws:
            aws.session.client("s3").create_bucket(Bucket=BUCKET)
            machine = aws.machine("file-import", "file_import",
                                  {"FileJobsFunctionArn": aws.function("file-jobs")})
            bases = [emulator.create_base(f"Files {n}", tables=[
                {"name": "People", "fields": PEOPLE}]) for n in range(8)]
            os.environ["FILE_IMPORT_STATE_MACHINE_ARN"] = machine
            get_settings.cache_clear()
            shared_limiter.cache_clear()
            user_id, _ = member("file")
            state = Imports(emulator, user_id, bases)
            handler = handler_of("file_jobs")

            def invoke(fn: Any, event: Any = None) -> tuple[str, bool, str]:
                try:
                    return json.dumps(handler(event or {}, _Context()), default=str), False, ""
                except Exception as e:  # reported as Lambda reports a function error
                    return _error(e), True, ""

            def send(writer: Any, rows: list[dict[str, Any]]) -> Any:
                state.sends += 1
                fault = state.faults.pop(state.sends, None)
                if fault == "before":
                    raise UpstreamError("Airtable could not be reached.")
                if fault == "leave":  # the importer is removed from the workspace meanwhile
                    _leave(state.user_id)
                result = original_send(writer, rows)
                if fault == "after":  # Airtable wrote the records; the task never learnt it
                    raise UpstreamError("Airtable could not be reached.") from Dropped()
                return result

            LambdaFunction._invoke_lambda = invoke
            module._Writer._send = send
            try:
                yield state
            finally:
                module._Writer._send = original_send
                shared_limiter.cache_clear()
    finally:
        emulator.stop()


@pytest.fixture(autouse=True)
def _fresh_faults(imports: Imports) -> Iterator[None]:
    imports.faults.clear()
    imports.sends = 0
    yield
    imports.faults.clear()


def test_1200_rows_run_as_three_chunks_and_every_row_is_written_once(imports):
    import_id, base_id = imports.start(1200)
    status = imports.wait(import_id)
    assert (status["status"], status["rows_done"], status["created"]) == ("succeeded", 1200, 1200)
    assert imports.names(base_id) == [f"Person {i:04}" for i in range(1, 1201)]


def test_a_chunk_retried_after_a_failed_request_resumes_after_what_it_wrote(imports):
    imports.faults = {23: "before"}  # request 23 of 60: chunk 0 dies with 22 batches written
    import_id, base_id = imports.start(600)
    status = imports.wait(import_id)
    assert (status["status"], status["created"]) == ("succeeded", 600)
    assert imports.names(base_id) == [f"Person {i:04}" for i in range(1, 601)]
    assert imports.sends == 61  # the failed request, then the 60 that wrote


def test_a_create_airtable_made_but_the_task_never_recorded_is_adopted_not_repeated(imports):
    imports.faults = {7: "after", 55: "after"}
    import_id, base_id = imports.start(600)
    status = imports.wait(import_id)
    assert (status["status"], status["created"], status["failed"]) == ("succeeded", 600, [])
    assert imports.names(base_id) == [f"Person {i:04}" for i in range(1, 601)]


def test_an_upsert_retried_after_its_request_landed_writes_the_same_records(imports):
    imports.faults = {4: "after"}
    import_id, base_id = imports.start(100, merge_on=["Name"])
    status = imports.wait(import_id)
    assert status["status"] == "succeeded"
    assert sorted(imports.names(base_id)) == [f"Person {i:04}" for i in range(1, 101)]


def _leave(user_id: str) -> None:
    from common.core.db import UnitOfWork
    from common.core.models import WorkspaceMember

    with UnitOfWork() as uow:
        uow.session.query(WorkspaceMember).filter_by(user_id=user_id).delete()
        uow.commit()


def test_an_importer_removed_from_the_workspace_stops_the_import_at_the_next_chunk(imports):
    owner = imports.user_id
    imports.user_id, _ = member("file")
    try:
        imports.faults = {10: "leave"}  # during chunk 0 of 3
        import_id, base_id = imports.start(1500)
        status = imports.wait(import_id)
    finally:
        imports.user_id = owner
    assert status["status"] == "failed"
    assert "can no longer write" in status["error"]
    assert status["rows_done"] == 500
    assert len(imports.names(base_id)) == 500


def test_real_airtable_failures_are_retried_in_the_task_and_then_by_the_machine(imports):
    # Five 503s in a row on the first write: the task retries it four times, then fails with
    # Unanswered (the class name Lambda reports), which the machine retries by that name.
    refused = imports.emulator.faults.inject("status", status=503, writes_only=True, count=5)
    lost = imports.emulator.faults.inject("reset_after", writes_only=True, count=2)
    try:
        import_id, base_id = imports.start(100)
        status = imports.wait(import_id)
    finally:
        imports.emulator.faults.clear()
    assert (refused.injected, lost.injected) == (5, 2)
    assert (status["status"], status["created"]) == ("succeeded", 100), status.get("error")
    assert imports.names(base_id) == [f"Person {i:04}" for i in range(1, 101)]
