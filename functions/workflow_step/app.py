"""Step runner: the task Lambda of the workflow state machine (one step per invocation)."""

from typing import Any

from common.lambda_handlers import traced
from common.observability import logger
from common.workflows import runner


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return runner.handler(event)
