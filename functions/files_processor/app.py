"""Files processor: fingerprints each object created in the uploads bucket."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source

from common import events, uploads
from common.lambda_handlers import traced
from common.observability import logger


@logger.inject_lambda_context
@traced
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: Any) -> dict[str, Any]:
    processed = []
    for record in event.records:
        key = uploads.object_key(record.s3.get_object.key)
        stored = uploads.fingerprint(record.s3.bucket.name, key)
        logger.info("file fingerprinted", extra={"key": key, "size": stored.size})
        events.publish("file.uploaded", {"file_id": stored.id, "key": key, "size": stored.size,
                                         "user_id": stored.owner_id})
        processed.append(stored.id)
    return {"processed": processed}
