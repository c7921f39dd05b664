"""Task Lambda of the file-import and file-export state machines."""

import warnings
from typing import Any

from common.core import usage
from common.core.observability import logger, metrics
from common.core.tasks import classified
from common.files import exports, imports

# prepare and finish send no Airtable request: no metrics to publish is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")


# log_metrics: each task's Airtable request counts leave with it (common.core.usage).
@logger.inject_lambda_context
@metrics.log_metrics
@usage.per_base_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Airtable's errors leave as the task errors the machines' Retry and Catch name.
    with classified():
        return _run(event, context)


def _run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = event["action"]
    if action == "prepare":
        return imports.prepare(event["import_id"])
    if action == "chunk":
        return imports.run_chunk(event["import_id"], int(event["chunk"]),
                                 context.get_remaining_time_in_millis)
    if action == "finish":
        return imports.finish(event["import_id"])
    if action == "fail":
        return imports.fail(event["import_id"], event.get("error"))
    if action == "export":
        return exports.run(event["export_id"])
    if action == "export_failed":
        return exports.fail(event["export_id"], event.get("error"))
    raise ValueError(f"unknown action {action!r}")
