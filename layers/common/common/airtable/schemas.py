"""Request and response models of the Airtable API (every rule about a request's shape)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from common.airtable.formulas import filter_formula
from common.airtable.ids import PATTERNS, FieldRef, RecordId, ViewRef
from common.core.schemas import IsoTime

Fields = dict[str, Any]


class NewConnection(BaseModel):
    """POST /api/airtable/connections: a token, or (admins) the deployment's own."""

    name: str = Field(min_length=1, max_length=100)
    token: str | None = Field(None, min_length=8, max_length=512)
    use_default: bool = False
    default_base_id: str | None = Field(None, pattern=PATTERNS["base"])
    workspace_id: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _token_or_default(self) -> NewConnection:
        if bool(self.token) == self.use_default:
            raise ValueError("give either a token or use_default: true")
        return self


class FieldSpec(BaseModel):
    """A field as Airtable's metadata API describes one."""

    name: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1)
    description: str | None = None
    options: dict[str, Any] | None = None


class NewTable(BaseModel):
    """POST .../tables; the first field is the primary field."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    fields: list[FieldSpec] = Field(min_length=1)


class Rename(BaseModel):
    """PATCH of a table or field: a new name and/or description."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Rename:
        if self.name is None and self.description is None:
            raise ValueError("give a name or a description (nothing to change)")
        return self

    def changes(self) -> dict[str, Any]:
        """Only what was given."""
        return self.model_dump(exclude_none=True)


class NewRecord(BaseModel):
    """A record to create."""

    fields: Fields


class RecordUpdate(BaseModel):
    """A record to update (by id) or to upsert (by merge_on, without id)."""

    id: RecordId | None = None
    fields: Fields


class NewRecords(BaseModel):
    """POST .../records."""

    records: list[NewRecord] = Field(min_length=1)
    typecast: bool = False


class RecordsUpdate(BaseModel):
    """PATCH .../records: updates by id, or an upsert when merge_on is given."""

    records: list[RecordUpdate] = Field(min_length=1)
    typecast: bool = False
    merge_on: list[FieldRef] | None = Field(None, min_length=1, max_length=3)

    @model_validator(mode="after")
    def _ids_unless_upsert(self) -> RecordsUpdate:
        if self.merge_on:
            # Airtable matches an upsert on these fields: a record without one cannot be matched.
            missing = [("records", i, "fields", name) for i, r in enumerate(self.records)
                       for name in self.merge_on if name not in (r.fields or {})]
        else:
            missing = [("records", i, "id") for i, r in enumerate(self.records) if not r.id]
        if missing:
            # One detail per record, as for any other missing field (`records.3.id`).
            raise ValidationError.from_exception_data(type(self).__name__, [
                InitErrorDetails(type=PydanticCustomError("missing", "missing"),
                                 loc=loc, input=None) for loc in missing])
        return self


class OneRecord(BaseModel):
    """PATCH or PUT of one record."""

    fields: Fields
    typecast: bool = False


class RecordQuery(BaseModel):
    """GET .../records, as Airtable's list options."""

    page_size: int | None = Field(None, ge=1, le=100)
    max_records: int | None = Field(None, ge=1)
    view: ViewRef | None = None
    fields: list[FieldRef] = Field(default_factory=list)
    sort: list[str] = Field(default_factory=list)
    filter: dict[str, Any] | list[Any] | None = None
    formula: str | None = Field(None, max_length=10_000)
    offset: str | None = Field(None, max_length=200)

    @field_validator("filter", mode="before")
    @classmethod
    def _filter_is_json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise ValueError("filter must be a JSON object or list (invalid JSON)") from e
        if value is not None and not isinstance(value, dict | list):
            raise ValueError("filter must be a JSON object or a list of conditions")
        return value

    @model_validator(mode="after")
    def _filter_or_formula(self) -> RecordQuery:
        if self.filter is not None and self.formula is not None:
            raise ValueError("use either filter or formula, not both")
        return self

    def options(self) -> dict[str, Any]:
        """pyairtable's options for this query (the filter built safely as a formula)."""
        options: dict[str, Any] = {"page_size": self.page_size, "max_records": self.max_records,
                                   "view": self.view, "fields": self.fields or None,
                                   "sort": self.sort or None, "formula": self.formula}
        if self.filter is not None:
            options["formula"] = filter_formula(self.filter)
        return {k: v for k, v in options.items() if v is not None}


# ------------------------------------------------------------------ responses
class ConnectionOut(BaseModel):
    """A connection as its workspace's members see it: never the token, only its last four."""

    id: str
    name: str
    workspace_id: str
    uses_default: bool
    token_last4: str | None
    default_base_id: str | None
    airtable_user_id: str | None
    created_at: IsoTime


class BaseOut(BaseModel):
    """A base one of the caller's connections reaches, with that connection."""

    id: str
    name: str
    permission_level: str
    connection_id: str
    workspace_id: str | None


class _Airtable(BaseModel):
    """Airtable's own JSON passed through: the keys named are always there, the rest (a
    description, field options, a view's visibleFieldIds) come as Airtable sent them."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class FieldOut(_Airtable):
    """A field as Airtable's metadata API describes it."""

    id: str
    name: str
    type: str


class ViewOut(_Airtable):
    """A view of a table."""

    id: str
    name: str
    type: str


class TableOut(_Airtable):
    """A table with its fields and views; the first field is the primary one."""

    id: str
    name: str
    primary_field_id: str = Field(alias="primaryFieldId")
    fields: list[FieldOut]
    views: list[ViewOut]


class BaseSchemaOut(_Airtable):
    """A base's tables, fields and views."""

    tables: list[TableOut]


class RecordOut(BaseModel):
    """A record: its cells stay Airtable's free-form JSON."""

    id: str
    created_time: str | None
    fields: Fields


class RecordPage(BaseModel):
    """One page of records; `offset` continues (null on the last page)."""

    records: list[RecordOut]
    offset: str | None


class RecordsOut(BaseModel):
    """The records a write created or updated."""

    records: list[RecordOut]


class UpsertOut(BaseModel):
    """An upsert's records, and which of them it created and which it updated."""

    records: list[RecordOut]
    created_ids: list[str]
    updated_ids: list[str]


class DeletedOut(BaseModel):
    """The ids of the records deleted."""

    deleted: list[str]
