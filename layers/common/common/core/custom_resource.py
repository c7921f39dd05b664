"""CloudFormation custom resources: run an action and always report back to CloudFormation.

CloudFormation waits up to an hour for an answer that never comes (and as long again on the
rollback), so every path answers before the function's own timeout: success, an exception, and
an action still running (a database that does not answer) are each a PUT to the ResponseURL.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

from common.core.observability import logger

# Kept back from the function's remaining time for the answer's PUT.
ANSWER_SECONDS = 10.0


def handle(event: dict[str, Any], action: Callable[[str], dict[str, Any]],
           context: Any = None) -> dict[str, Any]:
    """Run `action(request_type)` and PUT the outcome to the event's ResponseURL, FAILED with
    the reason when it raises or is still running as the function's time runs out."""
    url = event["ResponseURL"]
    if not url.startswith(("https://", "http://")):
        raise ValueError("ResponseURL must be an http(s) URL")
    response: dict[str, Any] = {
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"]}
    budget = _seconds_left(context) - ANSWER_SECONDS if context else None
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["Data"] = action(event["RequestType"])
        except Exception as e:  # CloudFormation must hear of every failure or the stack hangs
            logger.exception("custom resource failed")
            outcome["Reason"] = f"{type(e).__name__}: {str(e)[:300]}"

    # A daemon thread: one still stuck in a connect when the answer is sent does not hold the
    # invocation open (Lambda freezes it with the environment).
    worker = threading.Thread(target=run, name="custom-resource", daemon=True)
    worker.start()
    worker.join(timeout=max(budget, 0.0) if budget is not None else None)
    if worker.is_alive():
        reason = (f"{event['RequestType']} did not finish within {budget:.0f} s (the function's "
                  "timeout less the time to answer); is the database reachable from the "
                  "function's subnets?")
        logger.error("custom resource timed out", extra={"seconds": budget})
        response.update(Status="FAILED", Reason=reason)
    elif "Reason" in outcome:
        response.update(Status="FAILED", Reason=outcome["Reason"])
    else:
        response.update(Status="SUCCESS", Data=outcome["Data"])
    _answer(url, response, min(30.0, ANSWER_SECONDS - 1) if context else 30.0)
    return response


def _seconds_left(context: Any) -> float:
    return context.get_remaining_time_in_millis() / 1000


def _answer(url: str, response: dict[str, Any], timeout: float) -> None:
    body = json.dumps(response).encode()
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 - scheme checked above
        pass
