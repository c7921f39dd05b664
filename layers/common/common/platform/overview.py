"""Platform-wide views: the aggregate health of every service and the deployment's info."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict

from common import __version__
from common.core import health
from common.core.aws import client
from common.core.clock import now
from common.core.health import CheckOut
from common.core.schemas import IsoTime, Sparse
from common.core.settings import get_settings
from common.core.shared_result import SharedResult

# Which service's health report vouches for each shared dependency.
_DEPENDENCY_SOURCES = {"storage": ("files", "storage"),
                       "state_machines": ("sagas", "state_machines"),
                       "event_bus": ("notifications", "event_bus"),
                       "airtable": ("airtable", "airtable")}


class BuildOut(BaseModel):
    """What the deployment runs on."""

    runtime: str


class InfoOut(BaseModel):
    """Name, version, stage, services and build of this deployment."""

    name: str
    version: str
    stage: str
    services: list[str]
    build: BuildOut


class ServiceStatusOut(BaseModel):
    """A service's status in the public aggregate, and how long its answer took."""

    status: str
    latency_ms: float


class DependenciesOut(BaseModel):
    """The shared dependencies' statuses, each vouched for by the service that uses it."""

    database: str
    storage: str
    state_machines: str
    event_bus: str
    airtable: str


class HealthOut(BaseModel):
    """The public aggregate health (GET /api/health)."""

    status: str
    services: dict[str, ServiceStatusOut]
    dependencies: DependenciesOut


class ServiceReportOut(Sparse):
    """A service's health as its own health route answered it (or why it did not)."""

    model_config = ConfigDict(extra="allow")

    status: str
    latency_ms: float
    checks: dict[str, CheckOut] | None = None
    error: str | None = None  # the service could not be asked: why


class ConnectionsOut(BaseModel):
    """The database's connections held against its limit for non-superusers."""

    held: int
    limit: int
    share: float | None


class HealthReportOut(BaseModel):
    """The whole recent report (admins): every service's checks, the database's connections."""

    status: str
    checked_at: IsoTime
    services: dict[str, ServiceReportOut]
    dependencies: DependenciesOut
    database_connections: ConnectionsOut | None


def services() -> tuple[str, ...]:
    """This deployment's services: the ones the template gives the platform function (its
    SERVICE_FUNCTIONS, read for the aggregate health), then the platform itself."""
    return (*get_settings().service_function_map, "platform")


def info() -> InfoOut:
    """Name, version, services and build of this deployment."""
    settings = get_settings()
    return InfoOut(name="PyAirtable Serverless", version=__version__, stage=settings.stage,
                   services=list(services()), build=BuildOut(runtime="python3.11"))


# The public aggregate health answers from a report at most this old, refreshed by one caller
# at a time once half of it has passed; an instance answers what it read for a second before
# reading the table again: a flood of public calls never costs seven function invocations each.
HEALTH_MAX_AGE = 10.0
_report = SharedResult("health#aggregate", lambda: services_report(), HEALTH_MAX_AGE,
                       refresh_after=HEALTH_MAX_AGE / 2, reuse_for=1.0)


def aggregate_health() -> HealthOut:
    """The public view of the recent report: each service's status and latency, dependencies."""
    report = _report.get()
    services = {name: ServiceStatusOut(status=s["status"], latency_ms=s["latency_ms"])
                for name, s in report["services"].items()}
    return HealthOut(status=report["status"], services=services,
                     dependencies=report["dependencies"])


def services_health() -> HealthReportOut:
    """The recent report in full: every service's checks, the database's connections (admins)."""
    return HealthReportOut.model_validate(_report.get())


def services_report() -> dict[str, Any]:
    """Every service's health (each asked through its own function) and the shared
    dependencies, as of now."""
    functions = get_settings().service_function_map
    with ThreadPoolExecutor(max_workers=len(functions) + 1) as pool:
        futures = {name: pool.submit(_service_health, name, function)
                   for name, function in functions.items()}
        own = health.run_checks({"database": health.database})
        connections = health.database_connections()
        reports = {name: future.result() for name, future in futures.items()}
    reports["platform"] = {"status": _status_of(own), "latency_ms": own["database"]["latency_ms"],
                           "checks": own}
    dependencies = {"database": own["database"]["status"]}
    for dependency, (service, check) in _DEPENDENCY_SOURCES.items():
        dependencies[dependency] = reports.get(service, {}).get("checks", {}).get(check, {}).get(
            "status", "unknown")
    healthy = sum(r["status"] == "healthy" for r in reports.values())
    if dependencies["database"] != "ok" or healthy == 0:
        status = "unhealthy"
    elif healthy == len(reports):
        status = "healthy"
    else:
        status = "degraded"
    return {"status": status, "checked_at": now().isoformat(), "services": reports,
            "dependencies": dependencies, "database_connections": connections}


def _status_of(checks: dict[str, dict[str, Any]]) -> str:
    return "healthy" if all(c["status"] == "ok" for c in checks.values()) else "unhealthy"


def _service_health(service: str, function_name: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    if not function_name:
        return {"status": "unknown", "latency_ms": 0.0, "error": "function not configured"}
    try:
        response = client("lambda").invoke(
            FunctionName=function_name, Payload=json.dumps(_health_event(service)).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        body = json.loads(payload.get("body") or "{}")
        report = {"status": body.get("status", "unhealthy"), "checks": body.get("checks", {})}
    except Exception as e:  # an unreachable service is reported, not raised
        report = {"status": "unhealthy", "error": type(e).__name__}
    report["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


def _health_event(service: str) -> dict[str, Any]:
    """A payload-2.0 HTTP API event for GET /api/<service>/health, as API Gateway would send it."""
    path = f"/api/{service}/health"
    now = time.time()
    return {
        "version": "2.0", "routeKey": f"GET {path}", "rawPath": path, "rawQueryString": "",
        "headers": {"user-agent": "pyairtable-platform-health"}, "isBase64Encoded": False,
        "requestContext": {
            "accountId": "internal", "apiId": "internal", "domainName": "internal",
            "requestId": uuid.uuid4().hex, "routeKey": f"GET {path}", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "pyairtable-platform-health"}},
    }
