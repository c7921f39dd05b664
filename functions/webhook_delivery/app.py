"""Webhook delivery: queued deliveries (SQS) -> signed POSTs, with backoff, then the DLQ."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from common.core.aws import client
from common.core.observability import logger, traced
from common.core.settings import get_settings
from common.notifications.delivery import DeliveryFailed, attempt

_processor = BatchProcessor(event_type=EventType.SQS)
MAX_BACKOFF = 900


def _deliver(record: SQSRecord) -> None:
    settings = get_settings()
    received = int(record.attributes.approximate_receive_count or 1)
    try:
        attempt(json.loads(record.body)["delivery_id"],
                final=received >= settings.webhook_max_receives)
    except DeliveryFailed:
        _back_off(record, received)
        raise


def _back_off(record: SQSRecord, received: int) -> None:
    """Offer the message again after an exponential pause instead of the visibility timeout."""
    delay = min(MAX_BACKOFF, get_settings().webhook_retry_base_seconds * 2 ** (received - 1))
    try:
        client("sqs").change_message_visibility(QueueUrl=get_settings().webhook_queue_url,
                                                ReceiptHandle=record.receipt_handle,
                                                VisibilityTimeout=delay)
    except (ClientError, BotoCoreError):
        logger.warning("backoff not applied; the visibility timeout decides the retry")


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=_deliver, processor=_processor,
                                    context=context)
