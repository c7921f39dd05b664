"""Request bodies of the files API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from common.airtable.ids import BaseId, FieldRef, TableRef, ViewRef


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
    mapping: dict[str, FieldRef] | None = Field(None, description="column -> field")
    typecast: bool = False
    merge_on: list[FieldRef] | None = Field(None, min_length=1, max_length=3)
    sheet: str | None = Field(None, max_length=255, description="XLSX sheet (default: first)")


class ExportIn(BaseModel):
    """A table (or view, or some fields) to export to a new file."""

    base_id: BaseId
    table: TableRef
    view: ViewRef | None = None
    fields: list[FieldRef] | None = Field(None, min_length=1)
    format: Literal["csv", "json"] = "csv"
    workspace_id: str | None = None
