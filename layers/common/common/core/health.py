"""Dependency checks and the `/api/<service>/health` route every service mounts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict

from common import __version__
from common.core import db
from common.core.aws import client
from common.core.observability import logger
from common.core.schemas import Sparse, documented
from common.core.settings import get_settings
from common.core.shared_result import SharedResult

Check = Callable[[], Any]


class CheckOut(Sparse):
    """One check of a service's health: ok, or the type of the error it met."""

    # Relayed as a service answered it (the platform's report): whatever else it says is kept.
    model_config = ConfigDict(extra="allow")

    status: str
    error: str | None = None
    latency_ms: float | None = None


class ServiceHealthOut(BaseModel):
    """A service's health (GET /api/<service>/health)."""

    status: str
    service: str
    version: str
    checks: dict[str, CheckOut]


def database() -> None:
    """The database answers a trivial query."""
    from sqlalchemy import text


    for attempt in (1, 2):
        try:
            with db.engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except Exception as e:
            # A pooled connection that died while idle (the database restarted) fails once and
            # is discarded with its pool: the database itself is judged on a fresh connection.
            if attempt == 2 or not db.is_outage(e):
                raise


# Client backends (the stack's connections, through a proxy or not) against what the server
# admits to non-superusers: the figure the connections alarm watches on RDS.
_CONNECTIONS = """
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       current_setting('max_connections')::int
       - current_setting('superuser_reserved_connections')::int
"""


def database_connections() -> dict[str, Any] | None:
    """`{"held", "limit", "share"}` of the database's connections; None where the database has
    no such limit (SQLite) or cannot say."""
    from sqlalchemy import text


    try:
        with db.engine().connect() as conn:
            if conn.dialect.name != "postgresql":
                return None
            held, limit = conn.execute(text(_CONNECTIONS)).one()
    except Exception:  # the database check reports an outage; this figure is only absent
        logger.warning("could not count the database's connections", exc_info=True)
        return None
    return {"held": held, "limit": limit, "share": round(held / limit, 3) if limit else None}


def uploads_bucket() -> None:
    """The uploads bucket exists and is reachable."""
    client("s3").head_bucket(Bucket=get_settings().uploads_bucket_name)


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
    `max_age` seconds across every instance, by one caller at a time (common.core.shared_result)."""

    def __init__(self, name: str, check: Check, max_age: float = 60.0) -> None:
        self.name = name
        self.check = check
        self._shared = SharedResult(f"health#{name}", lambda: outcome(check), max_age)

    def __call__(self) -> None:
        """Raise when the (recent) outcome is a failure, like any other check."""
        result = self.outcome()
        if result["status"] != "ok":
            raise RuntimeError(result["error"])

    def outcome(self) -> dict[str, Any]:
        """The outcome of a run at most `max_age` seconds ago, running the check if none is."""
        return self._shared.get()


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
                tags=["health"], responses={**documented(200, description="Healthy"),
                                            **documented(503, description="Unhealthy")})
    def health() -> ServiceHealthOut:
        results = run_checks(checks)
        healthy = all(r["status"] == "ok" for r in results.values())
        report = ServiceHealthOut(status="healthy" if healthy else "unhealthy", service=service,
                                  version=__version__, checks=results)
        return report, 200 if healthy else 503  # type: ignore[return-value]

    return router
