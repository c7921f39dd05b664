"""Step runner: the task Lambda of the workflow state machine (one step per invocation)."""

import warnings
from typing import Any

from common.core import usage
from common.core.lambda_handlers import traced
from common.core.observability import logger, metrics
from common.workflows import runner

# Steps that send no Airtable request (delay, http_request) have no metrics: that is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")


# log_metrics: each step's Airtable request counts leave with it (common.core.usage).
@logger.inject_lambda_context
@traced
@metrics.log_metrics
@usage.per_base_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return runner.handler(event)
