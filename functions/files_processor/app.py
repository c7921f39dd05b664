"""Files processor: finishes presigned uploads when their objects land in the bucket."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source

from common.core.observability import logger, traced
from common.files import service
from common.files.uploads import object_key


@logger.inject_lambda_context
@traced
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: Any) -> dict[str, Any]:
    processed = []
    for record in event.records:
        key = object_key(record.s3.get_object.key)
        registered = service.register(key)
        logger.info("upload registered", extra={"key": key, "file": registered})
        if registered:
            processed.append(registered["id"])
    return {"processed": processed}
