"""Task Lambda of the saga state machines (and the start of onboarding on `user.registered`)."""

import warnings
from typing import Any

from common.core import usage
from common.core.observability import logger, metrics
from common.sagas import tasks

# Steps that only touch the database send no Airtable request: nothing to publish is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")


# log_metrics: each invocation's Airtable request counts leave with it (common.core.usage).
@logger.inject_lambda_context
@metrics.log_metrics
@usage.per_base_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return tasks.handle(event, context.get_remaining_time_in_millis())
