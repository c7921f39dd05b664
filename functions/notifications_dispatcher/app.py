"""Notifications dispatcher: domain events (EventBridge) -> inbox, email, webhook deliveries;
queued inbox messages (SQS) -> inbox."""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from common import inbox
from common.notifications.dispatch import dispatch
from common.observability import logger, traced

_processor = BatchProcessor(event_type=EventType.SQS)


def _queued(record: SQSRecord) -> None:
    inbox.deliver(inbox.InboxMessage.model_validate_json(record.body), record.message_id)


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(event=event, record_handler=_queued,
                                        processor=_processor, context=context)
    return dispatch(event)
