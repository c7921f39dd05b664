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
    publish_all([(event_type, detail)])


def publish_all(pending: list[tuple[str, dict[str, Any]]]) -> None:
    """Put events on the bus, 10 per call (PutEvents' limit); failures are logged, not raised."""
    bus = get_settings().event_bus_name
    for start in range(0, len(pending), 10):
        chunk = pending[start:start + 10]
        entries = [{"Source": SOURCE, "DetailType": t, "Detail": json.dumps(d, default=str),
                    "EventBusName": bus} for t, d in chunk]
        try:
            response = client("events").put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                logger.warning("events not published",
                               extra={"event_types": [t for t, _ in chunk]})
        except Exception:  # the bus is best-effort; the request's own work is already committed
            logger.exception("event bus unavailable", extra={"event_types": [t for t, _ in chunk]})
