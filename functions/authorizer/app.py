"""HTTP API Lambda authorizer (simple responses): a live session's JWT, or a live API key."""

from typing import Any

from common.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"isAuthorized": False}
