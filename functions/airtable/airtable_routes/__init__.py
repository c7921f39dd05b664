"""The Airtable function's routes, one Router per area."""

from typing import Annotated, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common.airtable.cache import Cached
from common.core.http import JSON

BASE = "/api/airtable/bases/<base_id>"
TABLE = BASE + "/tables/<table>"
TAGS = ["airtable"]
ConnectionId = Annotated[str | None, Query(
    max_length=32, description="connection to use (default: yours that reaches the base)")]

Model = TypeVar("Model")


def cached(result: Cached[Model]) -> Response[Model]:
    """A read's model, with the `X-Cache` header saying whether the cache answered it."""
    return Response(status_code=200, content_type=JSON, body=result.value,
                    headers={"X-Cache": "HIT" if result.hit else "MISS"})
