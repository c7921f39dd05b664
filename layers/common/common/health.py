"""Dependency checks and the `/api/<service>/health` route every service mounts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from common import __version__
from common.aws import client
from common.settings import get_settings

Check = Callable[[], Any]


def database() -> None:
    """The database answers a trivial query."""
    from sqlalchemy import text

    from common.db import engine

    with engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def uploads_bucket() -> None:
    """The uploads bucket exists and is reachable."""
    client("s3").head_bucket(Bucket=get_settings().uploads_bucket_name)


def notifications_queue() -> None:
    """The notifications queue exists."""
    client("sqs").get_queue_attributes(QueueUrl=get_settings().notifications_queue_url,
                                       AttributeNames=["QueueArn"])


def state_machines() -> None:
    """The diagnostics state machine is deployed."""
    client("stepfunctions").describe_state_machine(
        stateMachineArn=get_settings().diagnostics_state_machine_arn)


def event_bus() -> None:
    """The domain event bus exists."""
    client("events").describe_event_bus(Name=get_settings().event_bus_name)


def run_checks(checks: dict[str, Check]) -> dict[str, dict[str, Any]]:
    """Each check's status and latency; a failing check reports its error type, not a trace."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            result: dict[str, Any] = {"status": "ok"}
        except Exception as e:  # a health check reports every failure instead of raising it
            result = {"status": "error", "error": f"{type(e).__name__}: {str(e)[:200]}"}
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    return results


def health_router(service: str, checks: dict[str, Check]) -> Router:
    """A router with the service's public health route."""
    router = Router()

    @router.get(f"/api/{service}/health", summary=f"Health of the {service} service",
                tags=["health"])
    def health():
        results = run_checks(checks)
        healthy = all(r["status"] == "ok" for r in results.values())
        body = {"status": "healthy" if healthy else "unhealthy", "service": service,
                "version": __version__, "checks": results}
        return Response(status_code=200 if healthy else 503, content_type="application/json",
                        body=body)

    return router
