"""Platform service: aggregate health, info, OpenAPI and docs."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import audit_log, health, openapi, platform
from common.db import UnitOfWork
from common.http import JSON, create_app
from common.identity import require_admin
from common.lambda_handlers import http_handler

app = create_app("platform")
app.include_router(health.health_router("platform", {"database": health.database}))


@app.get("/api/health", summary="Aggregate health of every service", tags=["health"])
def aggregate_health():
    body, status = platform.aggregate_health()
    return Response(status_code=status, content_type=JSON, body=body)


@app.get("/api/platform/info", summary="Deployment information", tags=["platform"])
def info() -> dict:
    return platform.info()


@app.get("/api/openapi.json", summary="OpenAPI 3.1 document of every route", tags=["platform"])
def openapi_document():
    return Response(status_code=200, content_type=JSON, body=openapi.spec_json())


@app.get("/api/docs", summary="Swagger UI", tags=["platform"], include_in_schema=False)
def docs():
    return Response(status_code=200, content_type="text/html", body=openapi.docs_html())


@app.get("/api/platform/audit", summary="Audit log (admin)", tags=["platform"])
def audit(limit: Annotated[int, Query(ge=1, le=200)] = 50,
          cursor: Annotated[str | None, Query(max_length=1000)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None,
          actor_id: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    require_admin(app)
    return audit_log.entries(UnitOfWork(), limit=limit, after=cursor, action=action,
                             actor_id=actor_id)


lambda_handler = http_handler(app)
