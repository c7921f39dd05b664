"""Notifications dispatcher: domain events (EventBridge) -> inbox, email, webhook deliveries."""

from typing import Any

from common.core.observability import logger, traced
from common.notifications.dispatch import dispatch


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch(event)
