"""MCP endpoint (`/api/mcp`): API.md's tools over streamable HTTP, one stateless exchange per
invocation, acting as the caller its bearer credential names."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mcp_tools import reads, writes  # noqa: F401  (they register the tools)
from mcp_tools.asgi import respond
from mcp_tools.caller import set_caller
from mcp_tools.server import http_app

from common.auth import bearer, oauth
from common.core import credentials, db, deadline, init, usage
from common.core.db import UnitOfWork
from common.core.errors import AppError, Unauthorized
from common.core.identity import Identity
from common.core.observability import logger, metrics, traced

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
        set_caller(_caller(event))
        result = respond(http_app(event), event)
    except AppError as e:
        result = _error(event, e)
    finally:
        deadline.start(None)
    usage.record_request(event, result["statusCode"], (time.perf_counter() - started) * 1000)
    return result


def _caller(event: dict[str, Any]) -> Identity:
    """Who the bearer credential names. The route has no gateway authorizer: its 401 must
    carry OAuth's challenge (RFC 9728), which API Gateway's own 401 cannot, so that a client
    given only the URL finds where to sign in."""
    headers = event.get("headers") or {}
    identity = bearer.identify(headers, UnitOfWork(), oauth.mcp_resource())
    if identity is None:
        presented = credentials.bearer(headers) is not None
        challenge = f'Bearer resource_metadata="{oauth.resource_metadata_url()}"'
        if presented:
            challenge += ', error="invalid_token"'
        raise Unauthorized("Authentication required: an API key, or an access token granted "
                           "to this endpoint." if not presented else
                           "The credential is not valid (expired, revoked or not for this "
                           "endpoint).", headers={"WWW-Authenticate": challenge})
    return identity


def _error(event: dict[str, Any], error: AppError) -> dict[str, Any]:
    request_id = event.get("requestContext", {}).get("requestId", "")
    body = {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    return {"statusCode": error.status, "body": json.dumps(body),
            "headers": {"Content-Type": "application/json", "X-Request-Id": request_id,
                        **error.headers}}
