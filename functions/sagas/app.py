"""Sagas service: start, inspect, cancel and undo multi-step transactions."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import health, idempotency
from common.http import JSON, create_app
from common.identity import current_identity
from common.lambda_handlers import http_handler
from common.sagas import service
from common.sagas.schemas import StartSaga, UndoSaga

app = create_app("sagas")
app.include_router(health.health_router(
    "sagas", {"database": health.database, "state_machines": health.state_machines}))


def _user() -> str:
    return current_identity(app).user_id


def _json(status: int, body: object) -> Response:
    return Response(status_code=status, content_type=JSON, body=body)


@app.get("/api/sagas/types", summary="Saga types with their input schema", tags=["sagas"])
def saga_types() -> dict:
    return service.types()


@app.post("/api/sagas", summary="Start a saga (202), or check a transaction with dry_run (200)",
          tags=["sagas"])
def start_saga(body: StartSaga):
    user = _user()
    key = app.current_event.headers.get("idempotency-key")
    result = idempotency.run_once("sagas.start", user, key, body.model_dump(mode="json"),
                                  lambda: dict(zip(("status", "body"), service.start(user, body),
                                                   strict=True)))
    return _json(result["status"], result["body"])


@app.get("/api/sagas", summary="Sagas of your workspaces, newest first", tags=["sagas"])
def list_sagas(workspace_id: Annotated[str | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               cursor: Annotated[str | None, Query()] = None) -> dict:
    return service.list_for(_user(), workspace_id, limit, cursor)


@app.get("/api/sagas/<saga_id>", summary="A saga with each step and its compensation",
         tags=["sagas"])
def get_saga(saga_id: str) -> dict:
    return service.get(_user(), saga_id)


@app.post("/api/sagas/<saga_id>/cancel", summary="Stop a running saga and compensate it",
          tags=["sagas"])
def cancel_saga(saga_id: str):
    return _json(202, service.cancel(_user(), saga_id))


@app.post("/api/sagas/<saga_id>/undo", summary="Revert a succeeded airtable_transaction",
          tags=["sagas"])
def undo_saga(saga_id: str, body: UndoSaga | None = None):
    return _json(202, service.undo(_user(), saga_id, bool(body and body.force)))


lambda_handler = http_handler(app)
