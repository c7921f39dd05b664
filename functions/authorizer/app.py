"""HTTP API Lambda authorizer (simple responses): a live session's JWT, or a live API key."""

from typing import Any

from common import db, init
from common.auth import authorize, tokens
from common.observability import logger

init.prepare(tokens.signing_key, db.reader)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    context_out = authorize.decide(event.get("headers") or {})
    if context_out is None:
        logger.info("refused", extra={"route": event.get("routeKey")})
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": context_out}
