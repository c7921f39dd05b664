"""Request bodies and response models of the files API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from common.airtable.ids import BaseId, FieldRef, TableRef, ViewRef
from common.core.schemas import Sparse
from common.sagas.schemas import Timestamp


class UploadIn(BaseModel):
    """A presigned upload request."""

    filename: str = Field(min_length=1, max_length=255)
    content_type: str | None = Field(None, max_length=255)
    size: int = Field(ge=1)
    workspace_id: str | None = None


class ImportIn(BaseModel):
    """What to import the file into, and how."""

    base_id: BaseId
    table: TableRef
    mapping: dict[str, FieldRef | None] | None = Field(
        None, description="column -> field, or null to skip the column; a column named like a "
        "field maps to it unless the mapping says otherwise")
    typecast: bool = Field(False, description="create select options the table lacks")
    merge_on: list[FieldRef] | None = Field(None, min_length=1, max_length=3)
    sheet: str | None = Field(None, max_length=255, description="XLSX sheet (default: first)")
    dry_run: bool = Field(False, description="preview the first rows and every row's "
                          "problems; nothing is written")


class ExportIn(BaseModel):
    """A table (or view, or some fields) to export to a new file."""

    base_id: BaseId
    table: TableRef
    view: ViewRef | None = None
    fields: list[FieldRef] | None = Field(None, min_length=1)
    format: Literal["csv", "json"] = "csv"
    workspace_id: str | None = None


# ------------------------------------------------------------------ responses
class FileOut(Sparse):
    """A file: `error` says why one `failed` (a presigned upload whose content was refused)."""

    id: str
    workspace_id: str | None
    filename: str
    content_type: str
    format: str | None
    size: int | None
    sha256: str | None
    status: str
    created_at: Timestamp
    error: str | None = None


class UploadStartedOut(BaseModel):
    """A presigned PUT for a pending file; the file turns ready once its content is checked."""

    file_id: str
    upload_url: str
    method: str
    headers: dict[str, str]
    expires_in: int


class DownloadLinkOut(BaseModel):
    """A short-lived URL of a ready file's bytes, for the browser to open."""

    url: str
    expires_at: Timestamp


class ExportStartedOut(BaseModel):
    """An export started."""

    export_id: str
    status: str


class ImportStartedOut(BaseModel):
    """An import started."""

    import_id: str
    status: str


class ExportOut(Sparse):
    """An export's status; `file_id` names the file once it succeeded."""

    id: str
    export_id: str
    workspace_id: str
    base_id: str
    table: str
    view: str | None
    fields: list[str] | None
    format: str
    status: str
    rows: int
    file_id: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    error: str | None = None


class FailedRowOut(BaseModel):
    """A rejected row: its 1-based data row number and why."""

    row: int
    error: str


class ImportUndoStateOut(BaseModel):
    """The saga undoing an import, and how it stands."""

    saga_id: str | None
    status: str


class ImportOut(Sparse):
    """An import's progress and its rejected rows (the first 1000)."""

    id: str
    import_id: str
    file_id: str
    workspace_id: str
    base_id: str
    table: str
    status: str
    rows_total: int | None
    rows_done: int
    table_name: str
    filename: str | None
    created: int
    updated: int
    failed_count: int
    ignored_columns: list[str]
    failed: list[FailedRowOut]
    created_at: Timestamp
    finished_at: Timestamp | None
    error: str | None = None
    undo: ImportUndoStateOut | None = None


class PreviewColumnOut(BaseModel):
    """A column of the file, the field it goes to (null: ignored) and its first values."""

    column: str
    field: str | None
    field_type: str | None
    sample: list[Any]


class RowProblemOut(Sparse):
    """A value that does not fit its field (`column` null: the row as a whole)."""

    column: str | None
    field: str | None = None
    message: str


class PreviewRowOut(BaseModel):
    """A row as it would be written, with its problems."""

    row: int
    fields: dict[str, Any]
    problems: list[RowProblemOut]


class ImportPreviewOut(Sparse):
    """An import's dry run: the columns matched, the first rows, every row's problems;
    `sheets` lists a workbook's sheets to choose from."""

    table: str
    columns: list[PreviewColumnOut]
    ignored_columns: list[str]
    rows_total: int
    preview: list[PreviewRowOut]
    problems_total: int
    sheets: list[str] | None = None


class ImportUndoOut(BaseModel):
    """An import's undo started (`undoing`, with its saga), or nothing was left (`undone`)."""

    import_id: str
    status: str
    undo_saga_id: str | None
