"""The one way an HTTP function builds its `lambda_handler`: logging, tracing, metrics, resolve."""

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths

from common.core import db, deadline, idempotency, init, usage
from common.core.observability import logger, metrics, traced


def http_handler(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler resolving HTTP API events with `app`, with Powertools instrumentation."""
    # The database secret and engines (a third of a first health check's time).
    init.prepare(db.reader)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @traced
    @metrics.log_metrics
    @usage.per_base_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        deadline.start(context)
        idempotency.register_lambda_context(context)
        started = time.perf_counter()
        try:
            result = app.resolve(event, context)
        finally:
            # The deadline is this invocation's only: other handlers in the process (tests run
            # several) must not inherit a context that has since run out.
            deadline.start(None)
        # Usage and latency ride on this invocation's EMF line: no database write here.
        usage.record_request(event, result.get("statusCode", 500),
                             (time.perf_counter() - started) * 1000)
        return result

    return lambda_handler
