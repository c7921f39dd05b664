"""HTTP API Lambda authorizer (simple responses): a live session's JWT, or a live API key.

On every request's path, so it loads the standard library, PyJWT and pg8000 only (no
SQLAlchemy, pydantic, botocore or Powertools): secrets come through the Parameters and Secrets
extension, and each check is one prepared statement on a connection kept across invocations.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ and "cryptography" not in sys.modules:
    # PyJWT imports `cryptography` when it is installed (the layer ships it for other
    # packages): about 50 ms of this cold start for the asymmetric algorithms, which this
    # authorizer refuses anyway (HS256 only, verified with the standard library's hmac).
    # Marked absent, PyJWT runs without them. Only in a Lambda environment of its own.
    sys.modules["cryptography"] = None  # type: ignore[assignment]

import decision  # after the marker above

_LOGS_INFO = os.environ.get("LOG_LEVEL", "INFO").upper() in ("DEBUG", "INFO")

# Nothing is read at init: the extension answers only once the environment is invoked, and the
# first request needs the key and the connection anyway.


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    context_out = decision.decide(event.get("headers") or {})
    if context_out is None:
        if _LOGS_INFO:
            print(json.dumps({"level": "INFO", "message": "refused",
                              "route": event.get("routeKey"),
                              "function_request_id": getattr(context, "aws_request_id", None),
                              "service": os.environ.get("POWERTOOLS_SERVICE_NAME")}), flush=True)
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": context_out}
