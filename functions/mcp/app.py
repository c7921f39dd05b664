"""MCP endpoint (`/api/mcp`): API.md's tools over streamable HTTP, one stateless exchange per
invocation, acting as the caller the authorizer named."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mcp_tools import reads, writes  # noqa: F401  (they register the tools)
from mcp_tools.asgi import respond
from mcp_tools.caller import set_caller
from mcp_tools.server import http_app

from common import db, deadline, init, usage
from common.errors import AppError
from common.identity import event_identity
from common.observability import logger, metrics, traced

# The database secret and engines, at init as every HTTP function prepares them.
init.prepare(db.reader)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one MCP request (JSON-RPC over HTTP) as the authorized caller."""
    deadline.start(context)
    started = time.perf_counter()
    try:
        set_caller(event_identity(event))
        result = respond(http_app(event), event)
    except AppError as e:
        result = _error(event, e)
    finally:
        deadline.start(None)
    usage.record_request(event, result["statusCode"], (time.perf_counter() - started) * 1000)
    return result


def _error(event: dict[str, Any], error: AppError) -> dict[str, Any]:
    request_id = event.get("requestContext", {}).get("requestId", "")
    body = {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    return {"statusCode": error.status, "body": json.dumps(body),
            "headers": {"Content-Type": "application/json", "X-Request-Id": request_id,
                        **error.headers}}
