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
from common.aws import client
from common.cursor import decode as cursor_values
from common.cursor import encode as encode_cursor
from common.db import UnitOfWork
from common.errors import Conflict, NotFound, UpstreamError, ValidationFailed
from common.http import validation_details
from common.models import Saga, SagaLogEntry
from common.sagas import dry_run, log, transaction
from common.sagas.schemas import INPUTS, StartSaga, TransactionInput
from common.settings import get_settings
from common.workspaces import access as workspaces

# Express machines have no StopExecution: their tasks check the saga's status and stop.
EXPRESS = {"user_onboarding"}
STEP_NAMES = {"user_onboarding": ["preferences", "sample_table", "welcome"],
              "airtable_integration": ["verify", "schema", "snapshot", "notify"]}


def types() -> dict[str, Any]:
    """Every saga type with the JSON Schema of its input."""
    return {"items": [{"type": name, "input_schema": model.model_json_schema()}
                      for name, model in INPUTS.items()], "next_cursor": None}


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


def start(user_id: str, body: StartSaga) -> tuple[int, dict[str, Any]]:
    """Start a saga (202 with its id), or check a transaction without writing (dry run, 200)."""
    parsed = _parsed_input(body.type, body.input)
    if body.type == "user_onboarding" and parsed.user_id != user_id:
        raise ValidationFailed("Onboarding runs for yourself only.", details=[
            {"field": "input.user_id", "problem": "not the caller"}])
    with UnitOfWork() as uow:
        workspace_id = workspaces.resolve_workspace(uow, user_id, body.workspace_id, "editor")
        access = None
        if body.type in ("airtable_transaction", "airtable_integration"):
            # The connection decides: none reaching the base -> 404, too low a role -> 403.
            access = connections.for_base(
                uow, user_id, parsed.base_id,
                "editor" if body.type == "airtable_transaction" else "viewer")
    if body.dry_run:
        if not isinstance(parsed, TransactionInput) or access is None:
            raise ValidationFailed("dry_run is for airtable_transaction.", details=[
                {"field": "dry_run", "problem": "not supported for this type"}])
        return 200, dry_run.check(access, parsed)
    saga_id = create(body.type, workspace_id, user_id, parsed.model_dump(mode="json"))
    return 202, {"saga_id": saga_id, "status": "running"}


def create(kind: str, workspace_id: str, user_id: str | None, data: dict[str, Any],
           saga_id: str | None = None) -> str:
    """Record the saga, then start its execution (named after the saga, so at most one)."""
    with UnitOfWork() as uow:
        if saga_id and uow.session.get(Saga, saga_id) is not None:
            return saga_id
        saga = Saga(type=kind, workspace_id=workspace_id, created_by=user_id, status="running",
                    input=data, **({"id": saga_id} if saga_id else {}))
        uow.session.add(saga)
        uow.flush()
        log.append(uow, saga, "started", "saga.started")
        uow.commit()
        log.kept(uow, saga)
    arn = _start_execution(saga, saga.id, "apply", "failure")
    with UnitOfWork() as uow:
        row = log.locked(uow, saga.id)
        row.execution_arn = arn
        uow.commit()
    return saga.id


def _start_execution(saga: Saga, name: str, mode: str, reason: str) -> str:
    arn = state_machines().get(saga.type)
    payload = {"saga_id": saga.id, "mode": mode, "reason": reason, "failure": None}
    try:
        return str(client("stepfunctions").start_execution(
            stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])
    except ClientError as e:
        with UnitOfWork() as uow:
            row = log.locked(uow, saga.id)
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


def get(user_id: str, saga_id: str) -> dict[str, Any]:
    """A saga as its log tells it, exact while it runs."""
    with UnitOfWork() as uow:
        saga = _visible(uow, user_id, saga_id, "viewer")
        return view(saga, log.entries(uow, saga_id))


def list_for(user_id: str, workspace_id: str | None, limit: int,
             cursor: str | None) -> dict[str, Any]:
    """The sagas of the caller's workspaces (or of one), newest first."""
    with UnitOfWork() as uow:
        ids = workspaces.member_workspace_ids(uow, user_id, workspace_id)
        query = select(Saga).where(Saga.workspace_id.in_(ids)).order_by(
            Saga.created_at.desc(), Saga.id.desc()).limit(limit + 1)
        if cursor:
            at, last_id = cursor_values(cursor, 2)
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
        items = [{k: v for k, v in view(s, logs[s.id]).items() if k != "input"}
                 for s in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return {"items": items, "next_cursor": encode_cursor(
        last.created_at.isoformat(), last.id) if last else None}


def cancel(user_id: str, saga_id: str) -> dict[str, Any]:
    """Stop a running saga's execution and start the compensation of what it applied."""
    with UnitOfWork() as uow:
        saga = _visible(uow, user_id, saga_id, "editor")
        saga = log.locked(uow, saga_id)
        if saga.status != "running":
            raise Conflict(f"Only a running saga can be cancelled; this one is {saga.status}.")
        saga.status = "compensating"
        log.append(uow, saga, "cancel", "cancel.requested", by=user_id)
        uow.commit()
        log.kept(uow, saga)
    if saga.execution_arn and saga.type not in EXPRESS:
        try:
            client("stepfunctions").stop_execution(
                executionArn=saga.execution_arn, error="SagaCancelled",
                cause=f"Cancelled by user {user_id}.")
        except ClientError as e:  # it may have just ended; its log tells what it applied
            if e.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise UpstreamError("Step Functions did not stop the saga.") from e
    _start_compensation(saga, "cancel")
    return get(user_id, saga_id)


def undo(user_id: str, saga_id: str, force: bool) -> dict[str, Any]:
    """Revert a succeeded transaction; 409 listing the records changed since, unless forced."""
    with UnitOfWork() as uow:
        saga = log.kept(uow, _visible(uow, user_id, saga_id, "editor"))
    if saga.type != "airtable_transaction":
        raise Conflict("Only an airtable_transaction can be undone.")
    if saga.status != "succeeded":
        raise Conflict(f"Only a succeeded saga can be undone; this one is {saga.status}.")
    if not force:
        changed = transaction.changed_since(saga)
        if changed:
            raise Conflict("Records this saga wrote have changed since; undo with force to "
                           "overwrite them.", details=changed)
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status != "succeeded":
            raise Conflict(f"Only a succeeded saga can be undone; this one is {saga.status}.")
        saga.status = "compensating"
        log.append(uow, saga, "undo", "undo.requested", by=user_id, force=force)
        uow.commit()
        log.kept(uow, saga)
    _start_compensation(saga, "undo")
    return get(user_id, saga_id)


def _start_compensation(saga: Saga, reason: str) -> None:
    arn = _start_execution(saga, f"{saga.id}-{reason}", "compensate", reason)
    with UnitOfWork() as uow:
        row = log.locked(uow, saga.id)
        row.compensation_arn = arn
        uow.commit()


# ------------------------------------------------------------------ the view
def view(saga: Saga, entries: list[SagaLogEntry]) -> dict[str, Any]:
    """The API's saga object, built from the log."""
    names = ([f"{op['action']} {op['table']}" for op in saga.input.get("operations", [])]
             if saga.type == "airtable_transaction" else STEP_NAMES.get(saga.type, []))
    compensating = any(e.kind == "compensation.started" for e in entries)
    steps = [_step(i, name, [e for e in entries if e.step == i], compensating, saga.status)
             for i, name in enumerate(names)]
    body: dict[str, Any] = {
        "id": saga.id, "type": saga.type, "workspace_id": saga.workspace_id,
        "status": saga.status, "created_by": saga.created_by, "input": saga.input,
        "steps": steps, "created_at": log.iso(saga.created_at),
        "updated_at": log.iso(saga.updated_at), "finished_at": log.iso(saga.finished_at)}
    if saga.output is not None:
        body["output"] = saga.output
    if saga.error:
        body["error"] = saga.error
    left = next((e.data.get("left_to_undo") for e in reversed(entries)
                 if e.kind == "saga.finished" and e.data.get("left_to_undo")), None)
    if left:
        body["left_to_undo"] = left
    reasons = [e.data["reason"] for e in entries if e.kind == "compensation.started"]
    if reasons:
        body["compensation_reason"] = reasons[-1]
    return body


def _step(i: int, name: str, entries: list[SagaLogEntry], compensating: bool,
          saga_status: str) -> dict[str, Any]:
    kinds = {e.kind: e for e in entries}
    started, ok, failed = (kinds.get("step.started"), kinds.get("step.succeeded"),
                           kinds.get("step.failed"))
    status = ("succeeded" if ok else "failed" if failed else "running" if started
              else "pending")
    step: dict[str, Any] = {"index": i, "name": name, "status": status,
                            "started_at": log.iso(started.at if started else None),
                            "finished_at": log.iso((ok or failed).at if ok or failed else None)}
    if ok and "output" in ok.data:
        step["output"] = ok.data["output"]
    if failed:
        step["error"] = failed.data.get("error")
    chunks = [e for e in entries if e.kind == "chunk.applied"]
    if chunks:
        step["chunks_applied"] = len(chunks)
    retries = [e.data.get("error") for e in entries
               if e.kind == "chunk.failed" and e.data.get("transient")]
    if retries:
        step["retried"] = retries
    if compensating:
        step["compensation"] = _compensation(entries, bool(chunks) or ok is not None,
                                             saga_status)
    return step


def _compensation(entries: list[SagaLogEntry], applied: bool,
                  saga_status: str) -> dict[str, Any]:
    failures = [{"attempt": e.data.get("attempt"), "error": e.data.get("error"),
                 "at": log.iso(e.at)} for e in entries if e.kind == "undo.failed"]
    done = [e for e in entries if e.kind == "undo.chunk.done"]
    undone = any(e.kind == "undo.step.done" for e in entries)
    # A write that never reported back may have happened: it needs compensating too.
    possibly = sum(e.kind == "chunk.started" for e in entries) > sum(
        e.kind in ("chunk.applied", "chunk.failed") for e in entries)
    if undone:
        status = "compensated"
    elif not applied and not possibly:
        status = "not_needed"
    elif saga_status == "failed":
        status = "failed"
    else:
        status = "running" if done or failures else "pending"
    result: dict[str, Any] = {"status": status}
    if done:
        result["finished_at"] = log.iso(done[-1].at)
        merged: dict[str, Any] = {}
        for e in done:
            for key, value in e.data.items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
                elif isinstance(value, dict):
                    merged.setdefault(key, {}).update(value)
        result["output"] = merged
    if failures:
        result["attempts"] = failures
    return result
