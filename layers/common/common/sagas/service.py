"""The sagas service: start, read, list, cancel and undo, for a caller in a workspace."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError
from sqlalchemy import and_, or_, select

from common.airtable import connections
from common.core import access as workspaces
from common.core import idempotency, quotas
from common.core.aws import client
from common.core.cursor import decode as cursor_values
from common.core.cursor import encode as encode_cursor
from common.core.db import UnitOfWork
from common.core.errors import Conflict, NotFound, UpstreamError, ValidationFailed
from common.core.http import validation_details
from common.core.identity import Identity
from common.core.models import Saga, SagaLogEntry
from common.core.schemas import Page
from common.core.settings import get_settings
from common.sagas import dry_run, log
from common.sagas.commands import ListSagas, RevertSaga, StartOnce
from common.sagas.saga_log import Kind, SagaLog, iso
from common.sagas.schemas import (
    INPUTS,
    DryRunOut,
    SagaOut,
    SagaStartedOut,
    SagaTypeOut,
    StartSaga,
    TransactionInput,
)
from common.sagas.summary import summary
from common.sagas.transaction.undo_check import changed_since

# Express machines have no StopExecution: their tasks check the saga's status and stop.
EXPRESS = {"user_onboarding"}
USER_STARTED = ("airtable_transaction",)
STEP_NAMES = {"user_onboarding": ["preferences", "demo_base", "welcome"],
              "airtable_integration": ["verify", "schema", "snapshot", "notify"]}


def types(uow: UnitOfWork, identity: Identity) -> Page[SagaTypeOut]:
    """The saga types a user starts, with the JSON Schema of their input (API.md: the
    platform's own, onboarding and integration, are not listed)."""
    return Page[SagaTypeOut](items=[
        SagaTypeOut(type=name, input_schema=INPUTS[name].model_json_schema())
        for name in USER_STARTED])


@lru_cache(maxsize=1)
def state_machines() -> dict[str, str]:
    """Saga type -> state machine ARN, from SAGA_STATE_MACHINES (`type=arn,...`)."""
    pairs = (item.split("=", 1) for item in get_settings().saga_state_machines.split(",")
             if "=" in item)
    return {name.strip(): arn.strip() for name, arn in pairs}


def _parsed_input(kind: str, raw: dict[str, Any]) -> Any:
    try:
        return INPUTS[kind].model_validate(raw)
    except ValidationError as e:
        details = [{**d, "field": f"input.{d['field']}"}
                   for d in validation_details(list(e.errors()))]
        raise ValidationFailed("The saga's input is not valid.", details=details) from e


def start(cmd: StartOnce, uow: UnitOfWork, identity: Identity) -> SagaStartedOut | DryRunOut:
    """Start a saga, or check a transaction without writing (dry run); the same
    `Idempotency-Key` and body give the first answer again without starting twice."""
    body = cmd.body

    def work() -> dict[str, Any]:
        answer = _start(body, uow, identity)
        # Stored as it always was (a status and a body), so records made before read the same.
        return {"status": 200 if body.dry_run else 202, "body": answer.model_dump(mode="json")}

    result = idempotency.run_once("sagas.start", identity.user_id, cmd.idempotency_key,
                                  body.model_dump(mode="json"), work)
    return (DryRunOut if body.dry_run else SagaStartedOut).model_validate(result["body"])


def _start(body: StartSaga, uow: UnitOfWork, identity: Identity) -> SagaStartedOut | DryRunOut:
    user_id = identity.user_id
    parsed = _parsed_input(body.type, body.input)
    if body.type == "user_onboarding" and parsed.user_id != user_id:
        raise ValidationFailed("Onboarding runs for yourself only.", details=[
            {"field": "input.user_id", "problem": "not the caller"}])
    with uow:
        workspace_id = workspaces.resolve_workspace(uow, user_id, body.workspace_id, "editor")
        access = None
        if body.type in ("airtable_transaction", "airtable_integration"):
            # The connection decides: none reaching the base -> 404, too low a role -> 403.
            access = connections.for_base(
                uow, user_id, parsed.base_id,
                "editor" if body.type == "airtable_transaction" else "viewer")
            if not body.dry_run:
                quotas.check_sagas(uow, workspace_id, parsed.base_id)
    if body.dry_run:
        if not isinstance(parsed, TransactionInput) or access is None:
            raise ValidationFailed("dry_run is for airtable_transaction.", details=[
                {"field": "dry_run", "problem": "not supported for this type"}])
        return DryRunOut.model_validate(dry_run.check(access, parsed))
    saga_id = create(uow, body.type, workspace_id, user_id, parsed.model_dump(mode="json"))
    return SagaStartedOut(saga_id=saga_id, status="running")


def create(uow: UnitOfWork, kind: str, workspace_id: str, user_id: str | None,
           data: dict[str, Any], saga_id: str | None = None) -> str:
    """Record the saga, then start its execution (named after the saga, so at most one);
    `uow` is unopened."""
    with uow:
        if saga_id and uow.session.get(Saga, saga_id) is not None:
            return saga_id
        saga = Saga(type=kind, workspace_id=workspace_id, created_by=user_id, status="running",
                    input=data, **({"id": saga_id} if saga_id else {}))
        uow.session.add(saga)
        uow.flush()
        log.append(uow, saga, "started", Kind.SAGA_STARTED)
        uow.commit()
        saga_id = saga.id
    arn = _start_execution(uow, kind, saga_id, saga_id, "apply", "failure")
    with uow:
        row = log.locked(uow, saga_id)
        row.execution_arn = arn
        uow.commit()
    return saga_id


def _start_execution(uow: UnitOfWork, kind: str, saga_id: str, name: str, mode: str,
                     reason: str) -> str:
    arn = state_machines().get(kind)
    payload = {"saga_id": saga_id, "mode": mode, "reason": reason, "failure": None}
    try:
        return str(client("stepfunctions").start_execution(
            stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])
    except ClientError as e:
        with uow:
            row = log.locked(uow, saga_id)
            if row.status == "running":
                log.finish(uow, row, "failed", error={
                    "message": f"The state machine could not be started ({type(e).__name__})."})
                uow.commit()
        raise UpstreamError("Step Functions did not start the saga.") from e


def _visible(uow: UnitOfWork, user_id: str, saga_id: str, minimum: workspaces.Role) -> Saga:
    saga = uow.session.get(Saga, saga_id)
    if saga is None or workspaces.role_in(uow, user_id, saga.workspace_id) is None:
        raise NotFound("No such saga.")
    workspaces.require_role(uow, user_id, saga.workspace_id, minimum)
    return saga


def get(saga_id: str, uow: UnitOfWork, identity: Identity) -> SagaOut:
    """A saga as its log tells it, exact while it runs."""
    with uow:
        saga = _visible(uow, identity.user_id, saga_id, "viewer")
        return _out(saga, log.read(uow, saga))


def list_for(cmd: ListSagas, uow: UnitOfWork, identity: Identity) -> Page[SagaOut]:
    """The sagas of the caller's workspaces (or of one), newest first."""
    limit = cmd.limit
    with uow:
        ids = workspaces.member_workspace_ids(uow, identity.user_id, cmd.workspace_id)
        query = select(Saga).where(Saga.workspace_id.in_(ids)).order_by(
            Saga.created_at.desc(), Saga.id.desc()).limit(limit + 1)
        if cmd.cursor:
            at, last_id = cursor_values(cmd.cursor, 2)
            moment = datetime.fromisoformat(at)
            query = query.where(or_(Saga.created_at < moment, and_(
                Saga.created_at == moment, Saga.id < last_id)))
        rows = list(uow.session.scalars(query))
        logs: dict[str, list[SagaLogEntry]] = {s.id: [] for s in rows[:limit]}
        for entry in uow.session.scalars(select(SagaLogEntry).where(
                SagaLogEntry.saga_id.in_(list(logs))).order_by(SagaLogEntry.seq)):
            logs[entry.saga_id].append(entry)
        # Without their inputs: 50 transactions of thousands of records would outgrow a
        # Lambda response (6 MB); GET /api/sagas/{id} has the whole saga.
        items = [_out(s, SagaLog(logs[s.id], (s.input or {}).get("operations", [])),
                      with_input=False) for s in rows[:limit]]
        # Read before the unit of work ends: its rollback expires the rows.
        last = rows[limit - 1] if len(rows) > limit else None
        return Page[SagaOut](items=items, next_cursor=encode_cursor(
            last.created_at.isoformat(), last.id) if last else None)


def cancel(saga_id: str, uow: UnitOfWork, identity: Identity) -> SagaOut:
    """Stop a running saga's execution and start the compensation of what it applied."""
    user_id = identity.user_id
    with uow:
        saga = _visible(uow, user_id, saga_id, "editor")
        saga = log.locked(uow, saga_id)
        if saga.status != "running":
            raise Conflict(f"Only a running saga can be cancelled; this one is {saga.status}.")
        saga.status = "compensating"
        log.append(uow, saga, "cancel", Kind.CANCEL_REQUESTED, by=user_id)
        uow.commit()
        kind, execution_arn = saga.type, saga.execution_arn
    if execution_arn and kind not in EXPRESS:
        try:
            client("stepfunctions").stop_execution(
                executionArn=execution_arn, error="SagaCancelled",
                cause=f"Cancelled by user {user_id}.")
        except ClientError as e:  # it may have just ended; its log tells what it applied
            if e.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise UpstreamError("Step Functions did not stop the saga.") from e
    _start_compensation(uow, kind, saga_id, "cancel")
    return get(saga_id, uow, identity)


def undo(cmd: RevertSaga, uow: UnitOfWork, identity: Identity) -> SagaOut:
    """Revert a succeeded transaction; 409 listing the records changed since, unless forced."""
    saga_id, user_id = cmd.saga_id, identity.user_id
    with uow:
        _visible(uow, user_id, saga_id, "editor")
        saga = log.load(uow, saga_id)
    if saga.type != "airtable_transaction":
        raise Conflict("Only an airtable_transaction can be undone.")
    if saga.status != "succeeded":
        raise Conflict(f"Only a succeeded saga can be undone; this one is {saga.status}.")
    if not cmd.force:
        changed = changed_since(saga)
        if changed:
            raise Conflict("Records this saga wrote have changed since; undo with force to "
                           "overwrite them.", details=changed)
    with uow:
        saga = log.locked(uow, saga_id)
        if saga.status != "succeeded":
            raise Conflict(f"Only a succeeded saga can be undone; this one is {saga.status}.")
        saga.status = "compensating"
        log.append(uow, saga, "undo", Kind.UNDO_REQUESTED, by=user_id, force=cmd.force)
        uow.commit()
        kind = saga.type
    _start_compensation(uow, kind, saga_id, "undo")
    return get(saga_id, uow, identity)


def _start_compensation(uow: UnitOfWork, kind: str, saga_id: str, reason: str) -> None:
    arn = _start_execution(uow, kind, saga_id, f"{saga_id}-{reason}", "compensate", reason)
    with uow:
        row = log.locked(uow, saga_id)
        row.compensation_arn = arn
        uow.commit()


# ------------------------------------------------------------------ the view
def _out(saga: Saga, found: SagaLog, with_input: bool = True) -> SagaOut:
    """The API's saga: the row's fields, then its steps as the log tells them."""
    names = ([f"{op['action']} {op['table']}" for op in saga.input.get("operations", [])]
             if saga.type == "airtable_transaction" else STEP_NAMES.get(saga.type, []))
    optional: dict[str, Any] = {"input": saga.input} if with_input else {}
    if saga.output is not None:
        optional["output"] = saga.output
    if saga.error:
        optional["error"] = saga.error
    return SagaOut.model_validate({
        "id": saga.id, "type": saga.type, "workspace_id": saga.workspace_id,
        "summary": summary(saga.type, saga.input or {}), "status": saga.status,
        "created_by": saga.created_by, "created_at": iso(saga.created_at),
        "updated_at": iso(saga.updated_at), "finished_at": iso(saga.finished_at),
        **optional, **found.view(names, saga.status)})
