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
