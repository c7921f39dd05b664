"""Files service: uploads, downloads, imports and exports."""

import base64
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import health
from common.db import UnitOfWork
from common.errors import ValidationFailed
from common.files import jobs, multipart, service, undo
from common.files.schemas import ExportIn, ImportIn, UploadIn
from common.http import JSON, create_app
from common.identity import current_identity
from common.lambda_handlers import http_handler
from common.sagas.schemas import UndoSaga
from common.schemas import Page, documented

app = create_app("files")
app.include_router(health.health_router(
    "files", {"database": health.database, "storage": health.uploads_bucket}))

TAGS = ["files"]
FILE = "/api/files/<file_id>"
# The multipart envelope around a 4 MiB file: headers and boundaries, never this much.
ENVELOPE_BYTES = 64 * 1024


def _user() -> str:
    return current_identity(app).user_id


def _json(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=JSON, body=body)


@app.post("/api/files/upload", summary="Upload a file (multipart field `file`, up to 4 MiB)",
          tags=TAGS, responses=documented(201, description="Created"))
def upload():
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
    with UnitOfWork() as uow:
        return _json(201, service.upload(uow, _user(), workspace_id, file.filename,
                                         file.content_type, file.data))


@app.post("/api/files/uploads", summary="Start a presigned upload (up to 100 MB)", tags=TAGS,
          responses=documented(201, description="Created"))
def start_upload(body: UploadIn):
    with UnitOfWork() as uow:
        return _json(201, service.start_upload(uow, _user(), body.workspace_id, body.filename,
                                               body.content_type, body.size))


@app.get("/api/files", summary="Files of your workspaces", tags=TAGS,
         responses=documented(200, Page))
def list_files(workspace_id: Annotated[str | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               cursor: Annotated[str | None, Query()] = None) -> dict:
    with UnitOfWork() as uow:
        return service.list_files(uow, _user(), workspace_id, limit, cursor)


@app.post("/api/files/exports", summary="Export a table to a new CSV or JSON file", tags=TAGS,
          responses=documented(202, description="Accepted"))
def start_export(body: ExportIn):
    return _json(202, jobs.start_export(_user(), body))


@app.get("/api/files/exports/<export_id>", summary="An export's status", tags=TAGS)
def export_status(export_id: str) -> dict:
    return jobs.export_status(_user(), export_id)


@app.get("/api/files/imports/<import_id>", summary="An import's progress and rejected rows",
         tags=TAGS)
def import_status(import_id: str) -> dict:
    return jobs.import_status(_user(), import_id)


@app.post("/api/files/imports/<import_id>/undo", tags=TAGS,
          summary="Undo an import: delete what it created, restore what it updated",
          responses=documented(202, description="Accepted"))
def undo_import(import_id: str, body: UndoSaga | None = None):
    return _json(202, undo.undo(_user(), import_id, bool(body and body.force)))


@app.get(FILE, summary="A file", tags=TAGS)
def get_file(file_id: str) -> dict:
    with UnitOfWork() as uow:
        return service.view(service.get_file(uow, _user(), file_id))


@app.delete(FILE, summary="Delete a file (object and metadata)", tags=TAGS,
            responses=documented(204, description="Deleted"))
def delete_file(file_id: str):
    with UnitOfWork() as uow:
        service.delete_file(uow, _user(), file_id)
    return Response(status_code=204, content_type=JSON, body="")


@app.get(FILE + "/download", summary="A short-lived URL of a ready file, for the browser to open",
         tags=TAGS)
def download(file_id: str) -> dict:
    with UnitOfWork() as uow:
        return service.download_link(uow, _user(), file_id)


@app.post(FILE + "/import", summary="Import the file into an Airtable table (Idempotency-Key)",
          tags=TAGS, responses=documented(202, description="Accepted"))
def start_import(file_id: str, body: ImportIn):
    if body.dry_run:
        return _json(200, jobs.preview_import(_user(), file_id, body))
    key = app.current_event.headers.get("idempotency-key")
    return _json(202, jobs.start_import(_user(), file_id, body, key))


lambda_handler = http_handler(app)
