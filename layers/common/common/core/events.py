"""Domain events published to the EventBridge bus (`user.registered`, `file.uploaded`, ...)."""

from __future__ import annotations

import json
from typing import Any

from common.core.aws import client
from common.core.observability import logger, own_line
from common.core.settings import get_settings

SOURCE = "pyairtable"
# Events the bus did not take (after the request that raised them committed).
EVENTS_LOST = "EventsLost"


def publish(event_type: str, detail: dict[str, Any]) -> None:
    """Put one event on the bus; a failure is logged and counted, never raised."""
    publish_all([(event_type, detail)])


def publish_all(pending: list[tuple[str, dict[str, Any]]]) -> None:
    """Put events on the bus, 10 per call (PutEvents' limit); a lost event is logged with its
    ids and counted (metric `EventsLost`), never raised into the caller's committed request."""
    bus = get_settings().event_bus_name
    for start in range(0, len(pending), 10):
        chunk = pending[start:start + 10]
        entries = [{"Source": SOURCE, "DetailType": t, "Detail": json.dumps(d, default=str),
                    "EventBusName": bus} for t, d in chunk]
        try:
            response = client("events").put_events(Entries=entries)
        except Exception as e:  # the bus is best-effort; the request's own work is committed
            reason = getattr(e, "response", {}).get("Error", {}).get("Code") or type(e).__name__
            _lost([(event, reason) for event in chunk])
            continue
        if response.get("FailedEntryCount"):
            # PutEvents answers one entry per event, in order; a failed one has an ErrorCode.
            results = response.get("Entries", [])
            _lost([(event, result["ErrorCode"]) for event, result
                   in zip(chunk, results, strict=True) if result.get("ErrorCode")])


def _lost(lost: list[tuple[tuple[str, dict[str, Any]], str]]) -> None:
    """Log which events the bus did not take (type, ids, why) and count them."""
    logger.error("events lost: not published to the bus", extra={"lost_events": [
        {"type": t, "ids": _ids(d), "reason": reason} for (t, d), reason in lost]})
    with own_line(EVENTS_LOST, len(lost)):
        pass


def _ids(detail: dict[str, Any]) -> dict[str, Any]:
    # Ids say which record the event was about; the rest of the detail may be personal data.
    return {k: v for k, v in detail.items() if k == "id" or k.endswith("_id")}
