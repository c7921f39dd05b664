"""Models and helpers every API shares: pages, documented responses, parsing outside routes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from common.errors import ValidationFailed
from common.http import validation_details


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """A page of a list endpoint: `Page[WorkspaceOut]` documents its items' schema."""

    items: list[Item]
    next_cursor: str | None = None


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
