"""The Airtable function's routes, one Router per area."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common.airtable.cache import Cached
from common.http import JSON

BASE = "/api/airtable/bases/<base_id>"
TABLE = BASE + "/tables/<table>"
TAGS = ["airtable"]
ConnectionId = Annotated[str | None, Query(
    max_length=32, description="connection to use (default: yours that reaches the base)")]


def cached(result: Cached, status: int = 200) -> Response:
    """A read's response, saying whether the cache answered it."""
    return Response(status_code=status, content_type=JSON, body=result.value,
                    headers={"X-Cache": "HIT" if result.hit else "MISS"})


def created(body: Any) -> Response:
    """201 with the created object."""
    return Response(status_code=201, content_type=JSON, body=body)


def no_content() -> Response:
    """204."""
    return Response(status_code=204, content_type=JSON, body="")
