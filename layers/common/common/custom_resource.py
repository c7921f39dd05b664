"""CloudFormation custom resources: run an action and always report back to CloudFormation."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from common.observability import logger


def handle(event: dict[str, Any], action: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Run `action(request_type)` and PUT the outcome to the event's ResponseURL."""
    response: dict[str, Any] = {
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"]}
    try:
        response["Data"] = action(event["RequestType"])
        response["Status"] = "SUCCESS"
    except Exception as e:  # CloudFormation must hear of every failure or the stack hangs
        logger.exception("custom resource failed")
        response.update(Status="FAILED", Reason=f"{type(e).__name__}: {str(e)[:300]}")
    url = event["ResponseURL"]
    if not url.startswith(("https://", "http://")):
        raise ValueError("ResponseURL must be an http(s) URL")
    body = json.dumps(response).encode()
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - scheme checked above
        pass
    return response
