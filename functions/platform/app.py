"""Platform service: aggregate health, info, OpenAPI and docs."""

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common.core import health
from common.core.dependencies import Admin, Caller, ReadUow, Uow
from common.core.errors import NotFound
from common.core.http import JSON, create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Page, documented
from common.platform import analytics, audit_log, openapi, operations
from common.platform import overview as platform

app = create_app("platform")
app.include_router(health.health_router("platform", {"database": health.database}))


@app.get("/api/health", summary="Aggregate health of every service", tags=["health"],
         responses={**documented(200, description="Healthy or degraded"),
                    **documented(503, description="Unhealthy")})
def aggregate_health() -> platform.HealthOut:
    report = platform.aggregate_health()
    return report, 503 if report.status == "unhealthy" else 200  # type: ignore[return-value]


@app.get("/api/platform/health/services",
         summary="Every service's health with its checks, from the same recent report (admin)",
         tags=["health"])
def services_health(caller: Admin) -> platform.HealthReportOut:
    return platform.services_health()


@app.get("/api/platform/info", summary="Deployment information", tags=["platform"])
def info() -> platform.InfoOut:
    return platform.info()


# The document is JSON serialised once per instance: sent as it is, not re-encoded per request.
@app.get("/api/openapi.json", summary="OpenAPI 3.1 document of every route", tags=["platform"],
         responses={200: {"description": "The OpenAPI document", "content": {
             JSON: {"schema": {"type": "object", "additionalProperties": True}}}}})
def openapi_document():
    return Response(status_code=200, content_type=JSON, body=openapi.spec_json())


@app.get("/api/docs", summary="Swagger UI", tags=["platform"], include_in_schema=False)
def docs():
    return Response(status_code=200, content_type="text/html", body=openapi.docs_html(),
                    headers=openapi.DOCS_HEADERS)


@app.get("/api/docs/<asset>", summary="Swagger UI's files", tags=["platform"],
         include_in_schema=False)
def docs_asset(asset: str):
    found = openapi.docs_asset(asset)
    if found is None:
        raise NotFound("No such file of the API docs.")
    content_type, text = found
    return Response(status_code=200, content_type=content_type, body=text,
                    headers={**openapi.DOCS_HEADERS, "Cache-Control": "public, max-age=3600"})


@app.get("/api/platform/audit", summary="Audit log (admin)", tags=["platform"])
def audit(caller: Admin, uow: ReadUow,
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          cursor: Annotated[str | None, Query(max_length=1000)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None,
          actor_id: Annotated[str | None, Query(max_length=32)] = None,
          since: Annotated[datetime | None, Query()] = None,
          until: Annotated[datetime | None, Query()] = None) -> Page[audit_log.AuditEntryOut]:
    cmd = audit_log.AuditQuery(limit=limit, cursor=cursor, action=action, actor_id=actor_id,
                               since=since, until=until)
    return audit_log.entries(cmd, uow, caller)


@app.post("/api/platform/events", summary="Record an analytics event", tags=["platform"],
          status_code=201, responses=documented(201, description="Recorded"))
def record_event(body: analytics.AnalyticsEventIn, caller: Caller,
                 uow: Uow) -> analytics.EventOut:
    return analytics.record_event(body, uow, caller)


@app.get("/api/platform/usage", summary="The caller's API usage per day", tags=["platform"])
def usage(caller: Caller, uow: ReadUow,
          days: Annotated[int, Query(ge=1, le=90)] = 30) -> analytics.UsageOut:
    return analytics.usage(analytics.UsageQuery(days=days), uow, caller)


@app.get("/api/platform/metrics",
         summary="Requests, error rate and latency percentiles per service (admin)",
         tags=["platform"])
def metrics(caller: Admin, uow: ReadUow,
            since: Annotated[datetime | None, Query()] = None,
            until: Annotated[datetime | None, Query()] = None,
            service: Annotated[str | None, Query(max_length=32)] = None) -> analytics.MetricsOut:
    cmd = analytics.MetricsQuery(since=since, until=until, service=service)
    return analytics.service_metrics(cmd, uow, caller)


@app.get("/api/platform/operations",
         summary="Alarms, dead letters, failed executions, 5xx rates and Airtable 429s (admin)",
         tags=["platform"])
def operations_view(caller: Admin, uow: ReadUow) -> operations.Operations:
    return operations.overview(uow, caller)


lambda_handler = http_handler(app)
