"""Housekeeping: the scheduled clean-up job."""

from typing import Any

from common.core.observability import logger
from common.platform import housekeeping


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    counts = housekeeping.run()
    logger.info("housekeeping done", extra=counts)
    return counts
