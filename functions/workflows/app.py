"""Workflows service: definitions, triggers and executions."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request
from aws_lambda_powertools.event_handler.openapi.params import Query

from common.core import health
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Page, documented
from common.workflows import service, triggers
from common.workflows.commands import (
    ExecuteWorkflow,
    HookCall,
    HookCaller,
    ListExecutions,
    ListWorkflows,
    PatchWorkflow,
    ReplaceWorkflow,
)
from common.workflows.definitions import ExecuteIn, WorkflowIn, WorkflowPatch
from common.workflows.schemas import ExecutionOut, ExecutionStarted, WorkflowOut

app = create_app("workflows")
app.include_router(health.health_router(
    "workflows", {"database": health.database, "event_bus": health.event_bus}))
TAGS = ["workflows"]
WORKFLOW = "/api/workflows/<workflow_id>"
EXECUTION = "/api/workflows/executions/<execution_id>"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=500)]


def hook_caller(request: Request) -> HookCaller:
    """What the public hook route knows of its caller: the signature header it sent."""
    return HookCaller(signature=request.headers.get(triggers.SIGNATURE_HEADER))


def raw_body(request: Request) -> bytes:
    """The request's body as sent (the signature covers these exact bytes)."""
    body = request.resolved_event.decoded_body or ""
    return body.encode() if isinstance(body, str) else body


Signed = Annotated[HookCaller, Depends(hook_caller)]
RawBody = Annotated[bytes, Depends(raw_body)]


@app.post("/api/workflows", summary="Create a workflow", tags=TAGS, status_code=201,
          responses=documented(201, description="Created (a webhook trigger's secret is "
                                                      "shown once, as webhook_secret)"))
def create(body: WorkflowIn, caller: Caller, uow: Uow) -> WorkflowOut:
    return service.create(body, uow, caller)


@app.get("/api/workflows", summary="Workflows of your workspaces", tags=TAGS)
def list_workflows(caller: Caller, uow: ReadUow,
                   workspace_id: Annotated[str | None, Query(max_length=32)] = None,
                   limit: Limit = 50, cursor: Cursor = None) -> Page[WorkflowOut]:
    cmd = ListWorkflows(workspace_id=workspace_id, limit=limit, cursor=cursor)
    return service.list_workflows(cmd, uow, caller)


@app.get(EXECUTION, summary="One execution with per-step input, output, timings and errors",
         tags=TAGS)
def get_execution(execution_id: str, caller: Caller, uow: ReadUow) -> ExecutionOut:
    return service.get_execution(execution_id, uow, caller)


@app.post(EXECUTION + "/cancel", summary="Cancel a running execution", tags=TAGS)
def cancel(execution_id: str, caller: Caller, uow: Uow) -> ExecutionOut:
    return service.cancel(execution_id, uow, caller)


@app.post("/api/workflows/hooks/<workflow_id>", tags=TAGS, status_code=202,
          summary="Run a webhook-triggered workflow (public; X-PyAirtable-Signature: "
                  "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>)",
          responses=documented(202, description="Started"))
def hook(workflow_id: str, raw: RawBody, signed: Signed, uow: Uow) -> ExecutionStarted:
    return triggers.receive_hook(HookCall(workflow_id=workflow_id, body=raw), uow, signed)


@app.get(WORKFLOW, summary="One workflow", tags=TAGS)
def get(workflow_id: str, caller: Caller, uow: ReadUow) -> WorkflowOut:
    return service.get(workflow_id, uow, caller)


@app.put(WORKFLOW, summary="Replace a workflow's definition", tags=TAGS)
def put(workflow_id: str, body: WorkflowIn, caller: Caller, uow: Uow) -> WorkflowOut:
    return service.replace(ReplaceWorkflow(workflow_id=workflow_id, body=body), uow, caller)


@app.patch(WORKFLOW, summary="Change some of a workflow's fields", tags=TAGS)
def patch(workflow_id: str, body: WorkflowPatch, caller: Caller, uow: Uow) -> WorkflowOut:
    return service.patch(PatchWorkflow(workflow_id=workflow_id, body=body), uow, caller)


@app.delete(WORKFLOW, summary="Delete a workflow and its history", tags=TAGS, status_code=204,
            responses=documented(204, description="Deleted"))
def delete(workflow_id: str, caller: Caller, uow: Uow) -> None:
    service.delete(workflow_id, uow, caller)


@app.post(WORKFLOW + "/execute", summary="Run a workflow now (Idempotency-Key honoured)",
          tags=TAGS, status_code=202, responses=documented(202, description="Started"))
def execute(workflow_id: str, caller: Caller, uow: Uow,
            body: ExecuteIn | None = None) -> ExecutionStarted:
    cmd = ExecuteWorkflow(workflow_id=workflow_id, input=(body or ExecuteIn()).input,
                          idempotency_key=app.current_event.headers.get("idempotency-key"))
    return service.execute(cmd, uow, caller)


@app.get(WORKFLOW + "/executions", summary="A workflow's executions, newest first", tags=TAGS)
def list_executions(workflow_id: str, caller: Caller, uow: ReadUow, limit: Limit = 50,
                    cursor: Cursor = None) -> Page[ExecutionOut]:
    cmd = ListExecutions(workflow_id=workflow_id, limit=limit, cursor=cursor)
    return service.list_executions(cmd, uow, caller)


lambda_handler = http_handler(app)
