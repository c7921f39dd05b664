"""Domain events published to the EventBridge bus (`user.registered`, `file.uploaded`, ...)."""

from __future__ import annotations

import json
from typing import Any

from common.aws import client
from common.observability import logger
from common.settings import get_settings

SOURCE = "pyairtable"


def publish(event_type: str, detail: dict[str, Any]) -> None:
    """Put one event on the bus; failures are logged, never raised into the caller's request."""
    entry = {"Source": SOURCE, "DetailType": event_type, "Detail": json.dumps(detail, default=str),
             "EventBusName": get_settings().event_bus_name}
    try:
        response = client("events").put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            logger.warning("event not published", extra={"event_type": event_type})
    except Exception:  # the bus is best-effort; the request's own work is already committed
        logger.exception("event bus unavailable", extra={"event_type": event_type})
