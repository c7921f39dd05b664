"""Platform service: aggregate health, info, OpenAPI and docs."""

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import analytics, audit_log, health, openapi, operations, platform
from common.clock import as_utc
from common.db import UnitOfWork
from common.errors import NotFound
from common.http import JSON, create_app
from common.identity import current_identity, require_admin
from common.lambda_handlers import http_handler
from common.schemas import Page, documented

app = create_app("platform")
app.include_router(health.health_router("platform", {"database": health.database}))


@app.get("/api/health", summary="Aggregate health of every service", tags=["health"])
def aggregate_health():
    body, status = platform.aggregate_health()
    return Response(status_code=status, content_type=JSON, body=body)


@app.get("/api/platform/health/services",
         summary="Every service's health with its checks, from the same recent report (admin)",
         tags=["health"])
def services_health() -> dict:
    require_admin(app)
    return platform.services_health()


@app.get("/api/platform/info", summary="Deployment information", tags=["platform"])
def info() -> dict:
    return platform.info()


@app.get("/api/openapi.json", summary="OpenAPI 3.1 document of every route", tags=["platform"])
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


@app.get("/api/platform/audit", summary="Audit log (admin)", tags=["platform"],
         responses=documented(200, Page))
def audit(limit: Annotated[int, Query(ge=1, le=200)] = 50,
          cursor: Annotated[str | None, Query(max_length=1000)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None,
          actor_id: Annotated[str | None, Query(max_length=32)] = None,
          since: Annotated[datetime | None, Query()] = None,
          until: Annotated[datetime | None, Query()] = None) -> dict:
    require_admin(app)
    return audit_log.entries(UnitOfWork(), limit=limit, after=cursor, action=action,
                             actor_id=actor_id, since=since, until=until)


@app.post("/api/platform/events", summary="Record an analytics event", tags=["platform"],
          responses=documented(201, description="Recorded"))
def record_event(body: analytics.AnalyticsEventIn):
    recorded = analytics.record_event(UnitOfWork(), current_identity(app), body)
    return Response(status_code=201, content_type=JSON, body=recorded)


@app.get("/api/platform/usage", summary="The caller's API usage per day", tags=["platform"])
def usage(days: Annotated[int, Query(ge=1, le=90)] = 30) -> dict:
    return analytics.usage(UnitOfWork(), current_identity(app).user_id, days)


@app.get("/api/platform/metrics",
         summary="Requests, error rate and latency percentiles per service (admin)",
         tags=["platform"])
def metrics(since: Annotated[datetime | None, Query()] = None,
            until: Annotated[datetime | None, Query()] = None,
            service: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    require_admin(app)
    return analytics.service_metrics(UnitOfWork(), since and as_utc(since),
                                     until and as_utc(until), service)



@app.get("/api/platform/operations",
         summary="Alarms, dead letters, failed executions, 5xx rates and Airtable 429s (admin)",
         tags=["platform"], responses=documented(200, operations.Operations))
def operations_view() -> dict:
    require_admin(app)
    return operations.as_json(operations.overview(UnitOfWork(read_only=True)))


lambda_handler = http_handler(app)
