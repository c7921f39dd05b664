"""Workflow triggers off the HTTP path: the minute tick (schedules, Airtable changes) and
`file.uploaded` events from the bus."""

from typing import Any

from common.core.lambda_handlers import traced
from common.core.observability import logger
from common.workflows import triggers


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("detail-type") == "file.uploaded":
        result = triggers.file_uploaded(event.get("detail") or {})
    else:
        result = triggers.tick()
    logger.info("workflow triggers", extra=result)
    return result
