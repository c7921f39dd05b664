"""Models and helpers every API shares: pages, documented responses, parsing outside routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    ValidationError,
    WithJsonSchema,
    model_serializer,
)

from common.core.clock import as_utc
from common.core.errors import ValidationFailed
from common.core.http import validation_details

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
                    r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,63}$")


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value.lower()


# An email address as entered, checked and lowercased; a time made aware in UTC.
Email = Annotated[str, AfterValidator(_email)]
Utc = Annotated[datetime, AfterValidator(as_utc)]

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """A page of a list endpoint: `Page[WorkspaceOut]` documents its items' schema."""

    items: list[Item]
    next_cursor: str | None = None


# A timestamp as these APIs have always written it (`isoformat`: +00:00, where pydantic writes Z).
IsoTime = Annotated[datetime, PlainSerializer(lambda at: at.isoformat(), when_used="json"),
                    WithJsonSchema({"type": "string", "format": "date-time"})]


class Sparse(BaseModel):
    """A response whose fields with a default appear in its JSON only when they were set."""

    # Unknown keys are a bug in the view that builds the answer (models that pass keys through
    # say `extra="allow"`).
    model_config = ConfigDict(extra="forbid")

    # No return annotation: pydantic would document the answer as that type, not as the model.
    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: SerializerFunctionWrapHandler):
        # A key some answers carry and others do not stays absent there, rather than null.
        data = handler(self)
        fields = type(self).model_fields
        return {k: v for k, v in data.items()
                if k in self.model_fields_set or k not in fields or fields[k].is_required()}


class Message(BaseModel):
    """An answer that only says what happened (202s of requests that send an email)."""

    message: str


def documented(status: int, model: type[BaseModel] | None = None,
               description: str = "Success") -> dict[int, Any]:
    """The `responses=` of a route whose success status or body OpenAPI should show."""
    if model is None:
        return {status: {"description": description}}
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def parse(model: type[BaseModel], data: Any) -> Any:
    """Validate `data` outside Powertools' own body parsing; errors become a 422."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ValidationFailed("The request is not valid.",
                               details=validation_details(list(e.errors()))) from e
