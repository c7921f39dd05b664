"""Dependency checks and the `/api/<service>/health` route every service mounts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from botocore.exceptions import BotoCoreError, ClientError

from common import __version__
from common.aws import client
from common.observability import logger
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


def outcome(check: Check) -> dict[str, Any]:
    """`{"status": "ok"}`, or `{"status": "error", "error": <exception type>}`.

    Health routes are public: an exception's text (host names, users, paths) goes to the log,
    never into the answer.
    """
    if isinstance(check, SharedCheck):
        return check.outcome()
    try:
        check()
    except Exception as e:  # a health check reports every failure instead of raising it
        logger.warning("health check failed", exc_info=True)
        return {"status": "error", "error": type(e).__name__}
    return {"status": "ok"}


class SharedCheck:
    """A check that costs an upstream request (Airtable's `whoami`): run at most once per
    `max_age` seconds across every instance, its outcome kept in the cache table (and, while
    that table cannot be reached, in the process)."""

    def __init__(self, name: str, check: Check, max_age: float = 60.0) -> None:
        self.name = name
        self.check = check
        self.max_age = max_age
        self._last: tuple[float, dict[str, Any]] | None = None

    def __call__(self) -> None:
        """Raise when the (recent) outcome is a failure, like any other check."""
        result = self.outcome()
        if result["status"] != "ok":
            raise RuntimeError(result["error"])

    def outcome(self) -> dict[str, Any]:
        """The outcome of a run at most `max_age` seconds ago, running the check if none is."""
        now = time.time()
        try:
            stored = self._stored(now)
        except (ClientError, BotoCoreError):
            logger.warning("health results unavailable", exc_info=True)
            if self._last is None or now - self._last[0] > self.max_age:
                self._last = (now, outcome(self.check))
            return self._last[1]
        if stored is not None:
            return stored
        result = outcome(self.check)
        self._store(now, result)
        return result

    def _key(self) -> dict[str, Any]:
        return {"pk": {"S": f"health#{self.name}"}}

    def _stored(self, now: float) -> dict[str, Any] | None:
        item = client("dynamodb").get_item(TableName=get_settings().cache_table_name,
                                           Key=self._key(), ConsistentRead=True).get("Item")
        if not item or now - float(item["checked_at"]["N"]) > self.max_age:
            return None
        return dict(json.loads(item["outcome"]["S"]))

    def _store(self, now: float, result: dict[str, Any]) -> None:
        try:
            client("dynamodb").put_item(TableName=get_settings().cache_table_name, Item={
                **self._key(), "checked_at": {"N": repr(now)},
                "outcome": {"S": json.dumps(result)},
                "expires_at": {"N": str(int(now + 3600))}})
        except (ClientError, BotoCoreError):
            logger.warning("health result not stored", exc_info=True)


def run_checks(checks: dict[str, Check]) -> dict[str, dict[str, Any]]:
    """Each check's status and latency; a failing check reports its error type only."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        started = time.perf_counter()
        result = dict(outcome(check))
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
