"""Files service: uploads, downloads, imports and exports."""

import base64
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from common.core import health
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.errors import ValidationFailed
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Page, documented
from common.files import jobs, multipart, service, undo
from common.files.commands import ImportFile, ListFiles, UndoImport, UploadFile
from common.files.schemas import (
    DownloadLinkOut,
    ExportIn,
    ExportOut,
    ExportStartedOut,
    FileOut,
    ImportIn,
    ImportOut,
    ImportPreviewOut,
    ImportStartedOut,
    ImportUndoOut,
    UploadIn,
    UploadStartedOut,
)
from common.sagas.schemas import UndoSaga

app = create_app("files")
app.include_router(health.health_router(
    "files", {"database": health.database, "storage": health.uploads_bucket}))

TAGS = ["files"]
FILE = "/api/files/<file_id>"
# The multipart envelope around a 4 MiB file: headers and boundaries, never this much.
ENVELOPE_BYTES = 64 * 1024


def _form() -> UploadFile:
    """The upload's multipart form (Powertools parses JSON bodies only): its `file` and
    `workspace_id` fields, the workspace also taken from the query."""
    event = app.current_event
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else \
        (event.body or "").encode()
    if len(raw) > service.MAX_DIRECT_BYTES + ENVELOPE_BYTES:
        raise service.too_large(len(raw), service.MAX_DIRECT_BYTES,
                                "Use POST /api/files/uploads for larger files.")
    parts = {p.name: p for p in multipart.parse(event.headers.get("content-type", ""), raw)}
    file = parts.get("file")
    if file is None or file.filename is None:
        raise ValidationFailed("Send the file in the form field `file`.",
                               details=[{"field": "file", "problem": "missing"}])
    workspace = parts.get("workspace_id")
    workspace_id = workspace.data.decode() if workspace else \
        event.get_query_string_value("workspace_id")
    return UploadFile(workspace_id=workspace_id, filename=file.filename,
                      content_type=file.content_type, data=file.data)


@app.post("/api/files/upload", summary="Upload a file (multipart field `file`, up to 4 MiB)",
          tags=TAGS, status_code=201, responses=documented(201, description="Created"))
def upload(caller: Caller, uow: Uow) -> FileOut:
    return service.upload(_form(), uow, caller)


@app.post("/api/files/uploads", summary="Start a presigned upload (up to 100 MB)", tags=TAGS,
          status_code=201, responses=documented(201, description="Created"))
def start_upload(body: UploadIn, caller: Caller, uow: Uow) -> UploadStartedOut:
    return service.start_upload(body, uow, caller)


@app.get("/api/files", summary="Files of your workspaces", tags=TAGS)
def list_files(caller: Caller, uow: ReadUow,
               workspace_id: Annotated[str | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               cursor: Annotated[str | None, Query()] = None) -> Page[FileOut]:
    cmd = ListFiles(workspace_id=workspace_id, limit=limit, cursor=cursor)
    return service.list_files(cmd, uow, caller)


@app.post("/api/files/exports", summary="Export a table to a new CSV or JSON file", tags=TAGS,
          status_code=202, responses=documented(202, description="Accepted"))
def start_export(body: ExportIn, caller: Caller, uow: Uow) -> ExportStartedOut:
    return jobs.start_export(body, uow, caller)


@app.get("/api/files/exports/<export_id>", summary="An export's status", tags=TAGS)
def export_status(export_id: str, caller: Caller, uow: ReadUow) -> ExportOut:
    return jobs.export_status(export_id, uow, caller)


@app.get("/api/files/imports/<import_id>", summary="An import's progress and rejected rows",
         tags=TAGS)
def import_status(import_id: str, caller: Caller, uow: ReadUow) -> ImportOut:
    return jobs.import_status(import_id, uow, caller)


@app.post("/api/files/imports/<import_id>/undo", tags=TAGS,
          summary="Undo an import: delete what it created, restore what it updated",
          status_code=202, responses=documented(202, description="Accepted"))
def undo_import(import_id: str, caller: Caller, uow: Uow,
                body: UndoSaga | None = None) -> ImportUndoOut:
    return undo.undo(UndoImport(import_id=import_id, force=bool(body and body.force)), uow, caller)


@app.get(FILE, summary="A file", tags=TAGS)
def get_file(file_id: str, caller: Caller, uow: ReadUow) -> FileOut:
    return service.get(file_id, uow, caller)


@app.delete(FILE, summary="Delete a file (object and metadata)", tags=TAGS, status_code=204,
            responses=documented(204, description="Deleted"))
def delete_file(file_id: str, caller: Caller, uow: Uow) -> None:
    service.delete_file(file_id, uow, caller)


@app.get(FILE + "/download", summary="A short-lived URL of a ready file, for the browser to open",
         tags=TAGS)
def download(file_id: str, caller: Caller, uow: ReadUow) -> DownloadLinkOut:
    return service.download_link(file_id, uow, caller)


IMPORTED = {**documented(202, ImportStartedOut, "Started"),
            **documented(200, ImportPreviewOut, "Previewed (dry_run), nothing written")}


@app.post(FILE + "/import", summary="Import the file into an Airtable table (Idempotency-Key)",
          tags=TAGS, responses=IMPORTED)
def start_import(file_id: str, body: ImportIn, caller: Caller,
                 uow: Uow) -> tuple[ImportStartedOut | ImportPreviewOut, int]:
    key = app.current_event.headers.get("idempotency-key")
    answer = jobs.import_file(ImportFile(file_id=file_id, body=body, idempotency_key=key),
                              uow, caller)
    return answer, 200 if body.dry_run else 202


lambda_handler = http_handler(app)
