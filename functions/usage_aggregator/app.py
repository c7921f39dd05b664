"""Usage aggregator: the HTTP functions' EMF log lines (CloudWatch Logs subscription) -> usage
per user and day, latency histograms per service and hour."""

from typing import Any

from common.core.observability import logger
from common.platform import analytics


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    payload = analytics.decode_awslogs(event["awslogs"]["data"])
    if payload.get("messageType") != "DATA_MESSAGE":
        return {"requests": 0}  # CloudWatch's CONTROL_MESSAGE checks that the target answers
    return analytics.ingest(payload)
