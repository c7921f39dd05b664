"""Diagnostics tasks for the diagnostics state machine (probe, compensate)."""

from typing import Any

from common.core.observability import logger
from common.platform import diagnostics


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("action") == "compensate":
        error = event.get("error") or {}
        return diagnostics.compensate(event["run_id"], error.get("Cause"))
    return diagnostics.probe(event["run_id"], bool(event.get("fail")))
