"""Sagas service: start, inspect, cancel and undo multi-step transactions."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from common.core import health
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Page, documented
from common.sagas import service
from common.sagas.commands import ListSagas, RevertSaga, StartOnce
from common.sagas.schemas import (
    DryRunOut,
    SagaOut,
    SagaStartedOut,
    SagaTypeOut,
    StartSaga,
    UndoSaga,
)

app = create_app("sagas")
app.include_router(health.health_router(
    "sagas", {"database": health.database, "state_machines": health.state_machines}))
TAGS = ["sagas"]
SAGA = "/api/sagas/<saga_id>"


@app.get("/api/sagas/types", summary="Saga types with their input schema", tags=TAGS)
def saga_types(caller: Caller, uow: ReadUow) -> Page[SagaTypeOut]:
    return service.types(uow, caller)


STARTED = {**documented(202, SagaStartedOut, "Started"),
           **documented(200, DryRunOut, "Checked (dry_run), nothing written")}


@app.post("/api/sagas", summary="Start a saga (202), or check a transaction with dry_run (200)",
          tags=TAGS, responses=STARTED)
def start_saga(body: StartSaga, caller: Caller,
               uow: Uow) -> tuple[SagaStartedOut | DryRunOut, int]:
    key = app.current_event.headers.get("idempotency-key")
    answer = service.start(StartOnce(body=body, idempotency_key=key), uow, caller)
    return answer, 200 if body.dry_run else 202


@app.get("/api/sagas", summary="Sagas of your workspaces, newest first", tags=TAGS)
def list_sagas(caller: Caller, uow: ReadUow,
               workspace_id: Annotated[str | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               cursor: Annotated[str | None, Query()] = None) -> Page[SagaOut]:
    cmd = ListSagas(workspace_id=workspace_id, limit=limit, cursor=cursor)
    return service.list_for(cmd, uow, caller)


@app.get(SAGA, summary="A saga with each step and its compensation", tags=TAGS)
def get_saga(saga_id: str, caller: Caller, uow: ReadUow) -> SagaOut:
    return service.get(saga_id, uow, caller)


@app.post(SAGA + "/cancel", summary="Stop a running saga and compensate it", tags=TAGS,
          status_code=202)
def cancel_saga(saga_id: str, caller: Caller, uow: Uow) -> SagaOut:
    return service.cancel(saga_id, uow, caller)


@app.post(SAGA + "/undo", summary="Revert a succeeded airtable_transaction", tags=TAGS,
          status_code=202)
def undo_saga(saga_id: str, caller: Caller, uow: Uow, body: UndoSaga | None = None) -> SagaOut:
    cmd = RevertSaga(saga_id=saga_id, force=bool(body and body.force))
    return service.undo(cmd, uow, caller)


lambda_handler = http_handler(app)
