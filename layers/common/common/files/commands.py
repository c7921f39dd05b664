"""Commands of the files API whose input is more than a body or one id: a route's path, query
and header values and its body (or its parsed form) as one object."""

from __future__ import annotations

from dataclasses import dataclass

from common.files.schemas import ImportIn


@dataclass(frozen=True, kw_only=True)
class UploadFile:
    """POST /api/files/upload: the form's file, and the workspace it goes to."""

    workspace_id: str | None
    filename: str
    content_type: str | None
    data: bytes


@dataclass(frozen=True, kw_only=True)
class ListFiles:
    """GET /api/files."""

    workspace_id: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class ImportFile:
    """POST /api/files/{file_id}/import: the file, the body, and the `Idempotency-Key` that
    makes a retry start it once."""

    file_id: str
    body: ImportIn
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class UndoImport:
    """POST /api/files/imports/{import_id}/undo."""

    import_id: str
    force: bool = False
