"""Lambda's, API Gateway's, EventBridge's and Step Functions' payload limits and timeouts, as
AWS enforces them (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)."""

from __future__ import annotations

import json
from typing import Any

SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024  # a synchronous invocation's request and its response
ASYNC_PAYLOAD_BYTES = 256 * 1024  # an asynchronous invocation's event
EVENTS_REQUEST_BYTES = 256 * 1024  # the entries of one PutEvents request, together
STATES_PAYLOAD_BYTES = 256 * 1024  # an execution's input, a state's input or output
INTEGRATION_TIMEOUT_SECONDS = 30.0  # API Gateway's wait for its Lambda integration

Refusal = tuple[str, int, str]  # error code, HTTP status, message


def put_events_size(entries: list[dict[str, Any]]) -> int:
    """EventBridge's size of PutEvents entries (its documented formula)."""
    size = 0
    for entry in entries:
        if entry.get("Time") is not None:
            size += 14
        for key in ("Source", "DetailType", "Detail"):
            size += len(str(entry.get(key) or "").encode())
        size += sum(len(str(r).encode()) for r in entry.get("Resources") or [])
    return size


def call_refusal(prefix: str, operation: str, params: dict[str, Any]) -> Refusal | None:
    """The error a service answers a call whose payload is over its limit, else None."""
    if prefix == "events" and operation == "PutEvents":
        if put_events_size(params.get("Entries") or []) > EVENTS_REQUEST_BYTES:
            return ("ValidationException", 400,
                    "Total size of the entries in the request is over the limit.")
    elif prefix == "states" and operation in {"StartExecution", "StartSyncExecution"}:
        if len(str(params.get("input") or "").encode()) > STATES_PAYLOAD_BYTES:
            return ("ValidationException", 400,
                    "1 validation error detected: Value at 'input' failed to satisfy "
                    f"constraint: Member must have length less than or equal to "
                    f"{STATES_PAYLOAD_BYTES}")
    elif prefix == "lambda" and operation == "Invoke":
        limit = ASYNC_PAYLOAD_BYTES if params.get("InvocationType") == "Event" \
            else SYNC_PAYLOAD_BYTES
        payload = params.get("Payload") or b""
        if len(payload if isinstance(payload, bytes) else str(payload).encode()) > limit:
            return ("RequestTooLargeException", 413,
                    f"Request must be smaller than {limit} bytes for the InvokeFunction "
                    "operation")
    return None


def payload_size(value: Any) -> int:
    """The size of a JSON payload as Lambda counts it (UTF-8 bytes of its serialization)."""
    return len(json.dumps(value, default=str).encode())


def response_too_large(size: int) -> dict[str, str]:
    """The function error Lambda gives for a response over the synchronous limit."""
    return {"errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": f"Response payload size exceeded maximum allowed payload size "
                            f"({SYNC_PAYLOAD_BYTES} bytes).", "size": str(size)}
