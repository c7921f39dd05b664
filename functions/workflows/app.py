"""Workflows service: definitions, triggers and executions."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import health, idempotency
from common.db import UnitOfWork
from common.http import JSON, create_app
from common.identity import current_identity
from common.lambda_handlers import http_handler
from common.schemas import Page, documented
from common.workflows import service, triggers
from common.workflows.definitions import ExecuteIn, WorkflowIn, WorkflowPatch

app = create_app("workflows")
app.include_router(health.health_router(
    "workflows", {"database": health.database, "event_bus": health.event_bus}))
TAGS = ["workflows"]
WORKFLOW = "/api/workflows/<workflow_id>"
EXECUTION = "/api/workflows/executions/<execution_id>"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=500)]


def _status(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=JSON, body=body)


@app.post("/api/workflows", summary="Create a workflow", tags=TAGS,
          responses=documented(201, description="Created (a webhook trigger's secret is shown "
                                                "once, as webhook_secret)"))
def create(body: WorkflowIn):
    return _status(201, service.create(body, UnitOfWork(), current_identity(app)))


@app.get("/api/workflows", summary="Workflows of your workspaces", tags=TAGS,
         responses=documented(200, Page))
def list_workflows(workspace_id: Annotated[str | None, Query(max_length=32)] = None,
                   limit: Limit = 50, cursor: Cursor = None) -> dict:
    return service.list_workflows(UnitOfWork(), current_identity(app), workspace_id, limit,
                                  cursor)


@app.get(EXECUTION, summary="One execution with per-step input, output, timings and errors",
         tags=TAGS)
def get_execution(execution_id: str) -> dict:
    return service.get_execution(execution_id, UnitOfWork(), current_identity(app))


@app.post(EXECUTION + "/cancel", summary="Cancel a running execution", tags=TAGS)
def cancel(execution_id: str) -> dict:
    return service.cancel(execution_id, UnitOfWork(), current_identity(app))


@app.post("/api/workflows/hooks/<workflow_id>", tags=TAGS,
          summary="Run a webhook-triggered workflow (public; X-PyAirtable-Signature: "
                  "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>)",
          responses=documented(202, description="Started"))
def hook(workflow_id: str):
    event = app.current_event
    body = event.decoded_body or ""
    raw = body.encode() if isinstance(body, str) else body
    return _status(202, triggers.receive_hook(workflow_id, raw, dict(event.headers or {})))


@app.get(WORKFLOW, summary="One workflow", tags=TAGS)
def get(workflow_id: str) -> dict:
    return service.get(workflow_id, UnitOfWork(), current_identity(app))


@app.put(WORKFLOW, summary="Replace a workflow's definition", tags=TAGS)
def put(workflow_id: str, body: WorkflowIn) -> dict:
    return service.replace(workflow_id, body, UnitOfWork(), current_identity(app))


@app.patch(WORKFLOW, summary="Change some of a workflow's fields", tags=TAGS)
def patch(workflow_id: str, body: WorkflowPatch) -> dict:
    return service.patch(workflow_id, body, UnitOfWork(), current_identity(app))


@app.delete(WORKFLOW, summary="Delete a workflow and its history", tags=TAGS,
            responses=documented(204, description="Deleted"))
def delete(workflow_id: str):
    service.delete(workflow_id, UnitOfWork(), current_identity(app))
    return Response(status_code=204, content_type=JSON, body="")


@app.post(WORKFLOW + "/execute", summary="Run a workflow now (Idempotency-Key honoured)",
          tags=TAGS, responses=documented(202, description="Started"))
def execute(workflow_id: str, body: ExecuteIn | None = None):
    identity = current_identity(app)
    payload = (body or ExecuteIn()).input
    key = app.current_event.headers.get("idempotency-key")
    result = idempotency.run_once(
        "workflows.execute", identity.user_id, key, {"workflow_id": workflow_id,
                                                     "input": payload},
        lambda: service.execute(workflow_id, payload, UnitOfWork(), identity))
    return _status(202, result)


@app.get(WORKFLOW + "/executions", summary="A workflow's executions, newest first", tags=TAGS,
         responses=documented(200, Page))
def list_executions(workflow_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict:
    return service.list_executions(workflow_id, UnitOfWork(), current_identity(app), limit,
                                   cursor)


lambda_handler = http_handler(app)
