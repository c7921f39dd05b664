"""Platform-wide views: the aggregate health of every service and the deployment's info."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import __version__, health
from common.aws import client
from common.settings import get_settings

SERVICES = ("auth", "users", "airtable", "workflows", "files", "sagas", "notifications",
            "platform")

# Which service's health report vouches for each shared dependency.
_DEPENDENCY_SOURCES = {"storage": ("files", "storage"),
                       "state_machines": ("sagas", "state_machines"),
                       "event_bus": ("notifications", "event_bus"),
                       "airtable": ("airtable", "airtable")}


def info() -> dict[str, Any]:
    """Name, version, services and build of this deployment."""
    settings = get_settings()
    return {"name": "PyAirtable Serverless", "version": __version__, "stage": settings.stage,
            "services": list(SERVICES), "build": {"runtime": "python3.11"}}


def aggregate_health() -> tuple[dict[str, Any], int]:
    """Every service's health (each asked through its own function) and the shared dependencies."""
    functions = get_settings().service_function_map
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        futures = {name: pool.submit(_service_health, name, functions.get(name))
                   for name in SERVICES if name != "platform"}
        own = health.run_checks({"database": health.database})
        reports = {name: future.result() for name, future in futures.items()}
    reports["platform"] = {"status": _status_of(own), "latency_ms": own["database"]["latency_ms"],
                           "checks": own}
    dependencies = {"database": own["database"]["status"]}
    for dependency, (service, check) in _DEPENDENCY_SOURCES.items():
        dependencies[dependency] = reports[service].get("checks", {}).get(check, {}).get(
            "status", "unknown")
    services = {name: {"status": r["status"], "latency_ms": r["latency_ms"]}
                for name, r in reports.items()}
    healthy = sum(s["status"] == "healthy" for s in services.values())
    if dependencies["database"] != "ok" or healthy == 0:
        status = "unhealthy"
    elif healthy == len(services):
        status = "healthy"
    else:
        status = "degraded"
    body = {"status": status, "services": services, "dependencies": dependencies}
    return body, 503 if status == "unhealthy" else 200


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
