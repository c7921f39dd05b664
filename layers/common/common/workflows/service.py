"""Workflows: definitions in a workspace, executions started on the workflow state machine."""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from common.airtable.crypto import encrypt_token
from common.core import access as workspaces
from common.core import cursor as cursors
from common.core import idempotency, outbound
from common.core.aws import client
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.errors import Conflict, Forbidden, NotFound, UpstreamError, ValidationFailed
from common.core.identity import Identity
from common.core.models import Workflow, WorkflowExecution, WorkflowStepRun, new_id
from common.core.observability import logger
from common.core.schemas import Page, parse
from common.core.settings import get_settings
from common.workflows import eligibility, secret_headers, watches
from common.workflows.commands import (
    ExecuteWorkflow,
    ListExecutions,
    ListWorkflows,
    PatchWorkflow,
    ReplaceWorkflow,
)
from common.workflows.definitions import WorkflowIn, check_steps
from common.workflows.runner import INLINE_OUTPUT_BYTES
from common.workflows.schedules import Schedule
from common.workflows.schemas import (
    ExecutionOut,
    ExecutionStarted,
    ExecutionTrigger,
    StepResultOut,
    WatchOut,
    WorkflowOut,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def view(workflow: Workflow, secret: str | None = None) -> WorkflowOut:
    """A workflow as the API shows it; the webhook secret only when just made."""
    extra: dict[str, Any] = {}
    if workflow.trigger.get("type") == "webhook":
        extra["webhook_path"] = f"/api/workflows/hooks/{workflow.id}"
    if workflow.watch:
        extra["watch"] = WatchOut(**{k: workflow.watch.get(k)
                                     for k in ("webhook_id", "table_id", "expires_at")})
    if secret is not None:
        extra["webhook_secret"] = secret
    return WorkflowOut(
        id=workflow.id, workspace_id=workflow.workspace_id, name=workflow.name,
        description=workflow.description, trigger=workflow.trigger,
        steps=secret_headers.masked_steps(workflow.steps), enabled=workflow.enabled,
        created_by=workflow.created_by, run_as=workflow.run_as,
        next_run_at=workflow.next_run_at, created_at=workflow.created_at,
        updated_at=workflow.updated_at, **extra)


# ---------------------------------------------------------------- definitions
def create(body: WorkflowIn, uow: UnitOfWork, identity: Identity) -> WorkflowOut:
    """A new workflow in a workspace the caller edits."""
    with uow:
        workspace_id = workspaces.resolve_workspace(uow, identity.user_id, body.workspace_id,
                                                    "editor")
        workflow = Workflow(id=new_id(), workspace_id=workspace_id, created_by=identity.user_id,
                            watch=None, secret_ciphertext=None, next_run_at=None)
        hooks = _Webhooks(before=None)
        secret = _apply(uow, workflow, body.model_dump(exclude={"workspace_id"}), identity,
                        hooks)
        uow.session.add(workflow)
        uow.commit()
        _after_commit(uow, workflow, hooks, identity)
        return view(workflow, secret)


# What a workflow row holds of its definition: put back as it was when a save is undone.
_SAVED = ("name", "description", "trigger", "steps", "enabled", "run_as", "secret_ciphertext",
          "next_run_at", "watch")


@dataclass
class _Webhooks:
    """The Airtable webhook work of a save, done after its commit: nothing outside the
    database happens while the transaction is open, and a save that does not commit leaves no
    webhook behind."""

    before: dict[str, Any] | None  # the row as committed before the save; None: a new one
    create: bool = False  # the trigger needs a webhook of its own
    retired: dict[str, Any] | None = None  # the replaced watch, its webhook deleted last

    @classmethod
    def of(cls, workflow: Workflow) -> _Webhooks:
        """For a save of an existing workflow."""
        return cls(before={k: copy.deepcopy(getattr(workflow, k)) for k in _SAVED})


def _after_commit(uow: UnitOfWork, workflow: Workflow, hooks: _Webhooks,
                  identity: Identity) -> None:
    """Create the saved trigger's webhook, then delete the one it replaced.

    A webhook that cannot be created undoes the save (a new workflow is deleted, an edited one
    gets its previous definition and watch back, whose webhook is still there), and the error
    is the save's: no workflow believes it has a webhook it does not.
    """
    if hooks.create:
        try:
            watch = watches.add(workflow.workspace_id, identity.user_id, workflow.trigger)
        except BaseException:
            _undo_save(uow, workflow, hooks.before)
            raise
        workflow.watch = watch
        try:
            uow.commit()
        except BaseException:
            watches.remove(workflow, watch)  # not recorded: nothing would ever delete it
            raise
    if hooks.retired:
        watches.remove(workflow, hooks.retired)


def _undo_save(uow: UnitOfWork, workflow: Workflow, before: dict[str, Any] | None) -> None:
    if before is None:
        uow.session.delete(workflow)
    else:
        for name, value in before.items():
            setattr(workflow, name, value)
    uow.commit()


def _apply(uow: UnitOfWork, workflow: Workflow, data: dict[str, Any], identity: Identity,
           hooks: _Webhooks) -> str | None:
    """Set the definition, and what its trigger needs (the Airtable webhook work goes to
    `hooks`, for after the commit); returns a new webhook secret if one was made."""
    old_trigger = dict(workflow.trigger or {})
    workflow.name, workflow.description = data["name"], data.get("description") or ""
    workflow.trigger = {k: v for k, v in data["trigger"].items() if v not in (None, [])
                        or k == "changes"}
    _check_urls(data["steps"])
    workflow.steps = secret_headers.seal(workflow.id, data["steps"], workflow.steps)
    workflow.enabled = data.get("enabled", True)
    workflow.run_as = identity.user_id
    trigger = workflow.trigger
    _within_schedule_quota(uow, workflow)
    workflow.next_run_at = (Schedule.parse(trigger["schedule"]).next_after(now())
                            if trigger["type"] == "schedule" else None)
    secret = None
    if trigger["type"] == "webhook" and not workflow.secret_ciphertext:
        secret = "whsec_" + secrets.token_urlsafe(32)
        workflow.secret_ciphertext = _encrypt(workflow.id, secret)
    elif trigger["type"] != "webhook":
        workflow.secret_ciphertext = None
    watched = {k: old_trigger.get(k) for k in ("type", "base_id", "table", "changes")}
    wanted = {k: trigger.get(k) for k in ("type", "base_id", "table", "changes")}
    if workflow.watch and (watched != wanted or trigger["type"] != "airtable_change"):
        hooks.retired, workflow.watch = workflow.watch, None
    hooks.create = trigger["type"] == "airtable_change" and not workflow.watch
    return secret


FREQUENT_SECONDS = 300


def _frequent(workflow: Workflow) -> bool:
    trigger = workflow.trigger or {}
    return bool(workflow.enabled) and trigger.get("type") == "schedule" and Schedule.parse(
        trigger["schedule"]).shortest_interval_seconds() < FREQUENT_SECONDS


def _within_schedule_quota(uow: UnitOfWork, workflow: Workflow) -> None:
    """422 past the workspace's enabled workflows that fire more often than every 5 minutes
    (frequent_schedules_per_workspace): one member's schedules must not crowd a base."""

    if not _frequent(workflow):
        return
    limit = get_settings().frequent_schedules_per_workspace
    others = uow.session.scalars(select(Workflow).where(
        Workflow.workspace_id == workflow.workspace_id, Workflow.enabled.is_(True),
        Workflow.next_run_at.is_not(None), Workflow.id != workflow.id))
    if sum(1 for w in others if _frequent(w)) >= limit:
        raise ValidationFailed(
            f"This workspace already has {limit} enabled workflows scheduled more often than "
            "every 5 minutes, its limit (frequent_schedules_per_workspace): schedule this one "
            "less often, or disable another.",
            details=[{"field": "trigger.schedule", "problem": "frequent_schedules_per_workspace"}])


def _check_urls(steps: list[dict[str, Any]]) -> None:
    """A literal http_request URL refused by the address rule is refused now (422); every URL,
    templated or not, is checked again on the resolved address when the step sends."""

    for position, step in enumerate(steps):
        url = step["config"].get("url") if step["type"] == "http_request" else None
        if url and "{{" not in url:
            outbound.check_url(url, field_name=f"steps[{position}].config.url")


def _encrypt(workflow_id: str, secret: str) -> str:

    # The encryption context binds the ciphertext to this workflow.
    return encrypt_token(secret, f"workflow:{workflow_id}")


def _load(uow: UnitOfWork, user_id: str, workflow_id: str, minimum: str) -> Workflow:
    workflow = uow.session.get(Workflow, workflow_id)
    if workflow is None or workspaces.role_in(uow, user_id, workflow.workspace_id) is None:
        raise NotFound("No such workflow.")
    workspaces.require_role(uow, user_id, workflow.workspace_id, minimum)  # type: ignore[arg-type]
    return workflow


def get(workflow_id: str, uow: UnitOfWork, identity: Identity) -> WorkflowOut:
    """One workflow (viewers read)."""
    with uow:
        return view(_load(uow, identity.user_id, workflow_id, "viewer"))


def _position(cursor: str) -> tuple[datetime, str]:
    at, last_id = cursors.decode(cursor, 2)
    try:
        return datetime.fromisoformat(at), last_id
    except ValueError as e:
        raise ValidationFailed("The cursor is not valid.", details=[
            {"field": "cursor", "problem": "not a cursor from this API"}]) from e


def list_workflows(cmd: ListWorkflows, uow: UnitOfWork,
                   identity: Identity) -> Page[WorkflowOut]:
    """Workflows of the caller's workspaces, newest first."""
    with uow:
        ids = workspaces.member_workspace_ids(uow, identity.user_id, cmd.workspace_id)
        query = select(Workflow).where(Workflow.workspace_id.in_(ids))
        if cmd.cursor:
            moment, last_id = _position(cmd.cursor)
            query = query.where(or_(Workflow.created_at < moment, and_(
                Workflow.created_at == moment, Workflow.id < last_id)))
        rows = list(uow.session.scalars(query.order_by(Workflow.created_at.desc(),
                                                       Workflow.id.desc()).limit(cmd.limit + 1)))
        more = len(rows) > cmd.limit
        rows = rows[:cmd.limit]
        return Page[WorkflowOut](
            items=[view(w) for w in rows],
            next_cursor=cursors.encode(_iso(rows[-1].created_at), rows[-1].id) if more else None)


def replace(cmd: ReplaceWorkflow, uow: UnitOfWork, identity: Identity) -> WorkflowOut:
    """PUT: a whole new definition (the workspace stays)."""
    with uow:
        workflow = _load(uow, identity.user_id, cmd.workflow_id, "editor")
        hooks = _Webhooks.of(workflow)
        secret = _apply(uow, workflow, cmd.body.model_dump(exclude={"workspace_id"}), identity,
                        hooks)
        uow.commit()
        _after_commit(uow, workflow, hooks, identity)
        return view(workflow, secret)


def patch(cmd: PatchWorkflow, uow: UnitOfWork, identity: Identity) -> WorkflowOut:
    """PATCH: the given fields, the result validated as a whole."""

    with uow:
        workflow = _load(uow, identity.user_id, cmd.workflow_id, "editor")
        current = {"name": workflow.name, "description": workflow.description,
                   "trigger": workflow.trigger,
                   "steps": secret_headers.masked_steps(workflow.steps),
                   "enabled": workflow.enabled}
        merged = parse(WorkflowIn, {**current, **cmd.body.model_dump(exclude_unset=True)})
        check_steps(merged.steps)
        hooks = _Webhooks.of(workflow)
        secret = _apply(uow, workflow, merged.model_dump(exclude={"workspace_id"}), identity,
                        hooks)
        uow.commit()
        _after_commit(uow, workflow, hooks, identity)
        return view(workflow, secret)


def delete(workflow_id: str, uow: UnitOfWork, identity: Identity) -> None:
    """Delete a workflow, its history, and its Airtable webhook."""
    with uow:
        workflow = _load(uow, identity.user_id, workflow_id, "editor")
        watch = workflow.watch
        for execution in uow.session.scalars(select(WorkflowExecution).where(
                WorkflowExecution.workflow_id == workflow_id,
                WorkflowExecution.status == "running")):
            _stop(execution)
        uow.session.delete(workflow)
        uow.commit()
        if watch:  # once the deletion is committed: a rolled-back one keeps a working watch
            watches.remove(workflow, watch)


# ---------------------------------------------------------------- executions
def execute(cmd: ExecuteWorkflow, uow: UnitOfWork, identity: Identity) -> ExecutionStarted:
    """A manual run (editors); the same Idempotency-Key and input return the first run."""
    request = {"workflow_id": cmd.workflow_id, "input": cmd.input}
    started = idempotency.run_once(
        "workflows.execute", identity.user_id, cmd.idempotency_key, request,
        lambda: _execute(cmd, uow, identity).model_dump(mode="json"))
    return ExecutionStarted.model_validate(started)


def _execute(cmd: ExecuteWorkflow, uow: UnitOfWork, identity: Identity) -> ExecutionStarted:
    with uow:
        workflow = _load(uow, identity.user_id, cmd.workflow_id, "editor")
        if not workflow.enabled:
            raise Conflict("This workflow is disabled; enable it to run it.")
        execution, _ = start(uow, workflow, "manual", None, cmd.input, identity.user_id)
        return ExecutionStarted(execution_id=execution.id, status=execution.status)


def start(uow: UnitOfWork, workflow: Workflow, trigger_type: str, trigger_key: str | None,
          payload: dict[str, Any], started_by: str | None) -> tuple[WorkflowExecution, bool]:
    """Record and start an execution; an already-seen `trigger_key` returns the first one.

    403 while the workflow's owner may not run it (deactivated, or no longer an editor).
    """
    reason = eligibility.refusal(uow, workflow.run_as, workflow.workspace_id)
    if reason is not None:
        raise Forbidden(reason)
    if trigger_key is not None:
        existing = _by_trigger_key(uow, workflow.id, trigger_key)
        if existing is not None:
            return existing, False
    execution = WorkflowExecution(
        id=new_id(), workflow_id=workflow.id, workspace_id=workflow.workspace_id,
        status="running", trigger_type=trigger_type, trigger_key=trigger_key,
        started_by=started_by, run_as=workflow.run_as, input=payload,
        definition=workflow.steps, started_at=now())
    uow.session.add(execution)
    try:
        uow.commit()
    except Conflict:
        # The same event raced in from a second delivery: it runs once.
        found = _by_trigger_key(uow, workflow.id, trigger_key) if trigger_key else None
        if found is None:
            raise
        return found, False
    _start_machine(uow, execution)
    return execution, True


def _by_trigger_key(uow: UnitOfWork, workflow_id: str, key: str) -> WorkflowExecution | None:
    return uow.session.scalar(select(WorkflowExecution).where(
        WorkflowExecution.workflow_id == workflow_id, WorkflowExecution.trigger_key == key))


def _start_machine(uow: UnitOfWork, execution: WorkflowExecution) -> None:
    from botocore.exceptions import BotoCoreError, ClientError


    try:
        started = client("stepfunctions").start_execution(
            stateMachineArn=get_settings().workflow_state_machine_arn, name=execution.id,
            input=json.dumps({"execution_id": execution.id, "position": 0}))
    except (ClientError, BotoCoreError) as e:
        logger.exception("workflow execution did not start", extra={"execution": execution.id})
        execution.status, execution.finished_at = "failed", now()
        execution.error = {"code": "upstream_error",
                           "message": "The state machine could not be started."}
        uow.commit()
        raise UpstreamError("The workflow could not be started; try again.") from e
    execution.state_machine_execution = started["executionArn"]
    uow.commit()


def _stop(execution: WorkflowExecution) -> None:
    from botocore.exceptions import BotoCoreError, ClientError


    if execution.state_machine_execution:
        try:
            client("stepfunctions").stop_execution(
                executionArn=execution.state_machine_execution, error="Cancelled",
                cause="Cancelled through the API.")
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise UpstreamError("The execution could not be stopped; try again.") from e
        except BotoCoreError as e:
            raise UpstreamError("The execution could not be stopped; try again.") from e


def cancel(execution_id: str, uow: UnitOfWork, identity: Identity) -> ExecutionOut:
    """Stop a running execution; steps not yet run never run."""
    with uow:
        execution = _execution(uow, identity.user_id, execution_id, "editor")
        if execution.status != "running":
            raise Conflict(f"This execution is already {execution.status}.")
        _stop(execution)
        execution.status, execution.finished_at = "cancelled", now()
        for run in uow.session.scalars(select(WorkflowStepRun).where(
                WorkflowStepRun.execution_id == execution_id,
                WorkflowStepRun.status.in_(("running", "waiting")))):
            run.status, run.finished_at = "cancelled", now()
        uow.commit()
        return execution_view(uow, execution)


def _execution(uow: UnitOfWork, user_id: str, execution_id: str,
               minimum: str) -> WorkflowExecution:
    execution = uow.session.get(WorkflowExecution, execution_id)
    if execution is None or workspaces.role_in(uow, user_id, execution.workspace_id) is None:
        raise NotFound("No such execution.")
    workspaces.require_role(uow, user_id, execution.workspace_id, minimum)  # type: ignore[arg-type]
    return execution


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000, 1)


_SHOWN_STATUS = {"failed_continued": "failed", "stopped": "succeeded", "waiting": "waiting"}


def _step_view(run: WorkflowStepRun, detail: bool) -> StepResultOut:
    extra: dict[str, Any] = {}
    if run.status == "failed_continued":
        extra["continued"] = True
    if run.status == "stopped":
        extra["ended_execution"] = True
    if detail:
        extra["input"] = run.input
        extra["output_bytes"] = run.output_bytes
        if run.output_bytes > INLINE_OUTPUT_BYTES:
            extra["output"], extra["output_truncated"] = None, True
        else:
            extra["output"] = run.output
    return StepResultOut(
        id=run.step_id, type=run.type, position=run.position,
        status=_SHOWN_STATUS.get(run.status, run.status), attempts=run.attempts,
        started_at=run.started_at, finished_at=run.finished_at,
        duration_ms=_ms(run.started_at, run.finished_at), error=run.error, **extra)


def execution_view(uow: UnitOfWork, execution: WorkflowExecution,
                   detail: bool = True) -> ExecutionOut:
    """An execution with its per-step results (steps never reached: pending or skipped)."""
    runs = {r.position: r for r in uow.session.scalars(select(WorkflowStepRun).where(
        WorkflowStepRun.execution_id == execution.id))}
    steps = []
    for position, step in enumerate(execution.definition):
        run = runs.get(position)
        if run is not None:
            steps.append(_step_view(run, detail))
        else:
            steps.append(StepResultOut(
                id=step["id"], type=step["type"], position=position,
                status="pending" if execution.status == "running" else "skipped"))
    return ExecutionOut(
        id=execution.id, workflow_id=execution.workflow_id,
        workspace_id=execution.workspace_id, status=execution.status,
        trigger=ExecutionTrigger(type=execution.trigger_type, key=execution.trigger_key),
        input=execution.input, started_by=execution.started_by,
        started_at=execution.started_at, finished_at=execution.finished_at,
        duration_ms=_ms(execution.started_at, execution.finished_at),
        error=execution.error, steps=steps)


def get_execution(execution_id: str, uow: UnitOfWork, identity: Identity) -> ExecutionOut:
    """One execution with every step's input, output, timings and error."""
    with uow:
        return execution_view(uow, _execution(uow, identity.user_id, execution_id, "viewer"))


def list_executions(cmd: ListExecutions, uow: UnitOfWork,
                    identity: Identity) -> Page[ExecutionOut]:
    """A workflow's executions, newest first (steps without their inputs and outputs)."""
    with uow:
        _load(uow, identity.user_id, cmd.workflow_id, "viewer")
        query = select(WorkflowExecution).where(
            WorkflowExecution.workflow_id == cmd.workflow_id)
        if cmd.cursor:
            moment, last_id = _position(cmd.cursor)
            query = query.where(or_(WorkflowExecution.started_at < moment, and_(
                WorkflowExecution.started_at == moment, WorkflowExecution.id < last_id)))
        rows = list(uow.session.scalars(query.order_by(
            WorkflowExecution.started_at.desc(), WorkflowExecution.id.desc()
        ).limit(cmd.limit + 1)))
        more = len(rows) > cmd.limit
        rows = rows[:cmd.limit]
        return Page[ExecutionOut](
            items=[execution_view(uow, e, detail=False) for e in rows],
            next_cursor=cursors.encode(_iso(rows[-1].started_at), rows[-1].id) if more else None)
