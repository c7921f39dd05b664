"""The step runner: the task Lambda of the workflow state machine, one step per invocation.

The machine's state carries only `{execution_id, position}`; definitions, inputs and every
step's output live in PostgreSQL, so no output ever counts against Step Functions' 256 KB
payload limit. Each invocation is idempotent, keyed by (execution, position): a step already
recorded as done is not run again when Step Functions retries or re-delivers the task.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from common.airtable.limiter import background
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.models import Workflow, WorkflowExecution, WorkflowStepRun
from common.core.observability import logger
from common.core.tasks import Failure, Rejected, Throttled, Transient, read_failure
from common.workflows import eligibility, secret_headers
from common.workflows import steps as step_types
from common.workflows.templates import render

# Must equal MaxAttempts of the `Transient` retrier in statemachines/workflow.asl.json: the
# last attempt applies the step's on_error instead of asking for another retry.
TRANSIENT_RETRIES = 2
# Likewise for `Throttled`: spaced to outlast Airtable's 30 s lock-out after a 429.
THROTTLED_RETRIES = 4
# Outputs larger than this are left out of execution responses (they stay in the database).
INLINE_OUTPUT_BYTES = 256 * 1024


def handler(event: dict[str, Any]) -> dict[str, Any]:
    """Dispatch a task of the workflow state machine."""
    if event.get("action") == "fail":
        return record_failure(event["execution_id"], event.get("error") or {})
    # A workflow's requests give way to those that must answer an HTTP caller in time.
    with background():
        return run_step(event["execution_id"], int(event.get("position", 0)),
                        int(event.get("retry") or 0))


def _route(execution_id: str, position: int, nxt: str, seconds: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = {"execution_id": execution_id, "position": position, "next": nxt}
    if nxt == "wait":
        result["seconds"] = seconds
    return result


def _replay(execution_id: str, run: WorkflowStepRun) -> dict[str, Any] | None:
    """The routing a step already recorded as done gave (a retried task does nothing twice)."""
    if run.status == "waiting":
        return _route(execution_id, run.position + 1, "wait", int((run.output or {})["seconds"]))
    if run.status == "stopped":
        return _route(execution_id, run.position + 1, "done")
    if run.status in ("succeeded", "failed_continued"):
        return _route(execution_id, run.position + 1, "run")
    if run.status == "failed":
        raise Rejected(json.dumps(run.error or {}))
    return None


def run_step(execution_id: str, position: int, retry: int) -> dict[str, Any]:
    """Run the step at `position` and say where the machine goes next."""
    with UnitOfWork() as uow:
        execution = uow.session.get(WorkflowExecution, execution_id)
        if execution is None or execution.status != "running":
            return _route(execution_id, position, "done")  # cancelled (or already finished)
        runs = {r.position: r for r in uow.session.scalars(select(WorkflowStepRun).where(
            WorkflowStepRun.execution_id == execution_id))}
        _close_delay(runs.get(position - 1))
        definition = execution.definition
        if position >= len(definition):
            _finish(uow, execution, "succeeded")
            uow.commit()
            return _route(execution_id, position, "done")
        step = definition[position]
        run = runs.get(position)
        if run is not None and (replayed := _replay(execution_id, run)) is not None:
            uow.commit()
            return replayed
        workflow = uow.session.get(Workflow, execution.workflow_id)
        ctx = step_types.StepContext(
            workflow_id=execution.workflow_id, workflow_name=workflow.name if workflow else "",
            execution_id=execution_id, workspace_id=execution.workspace_id,
            run_as=execution.run_as, owner_id=workflow.created_by if workflow else None,
            position=position, data=_template_data(execution, definition, runs))
        config = _resolved(step, ctx.data)
        refused = eligibility.refusal(uow, execution.run_as, execution.workspace_id) \
            if step["type"] in eligibility.DATA_STEPS else None
        if run is None:
            run = WorkflowStepRun(execution_id=execution_id, position=position,
                                  step_id=step["id"], type=step["type"], attempts=0,
                                  output_bytes=0, started_at=now())
            uow.session.add(run)
        run.attempts += 1
        run.status, run.input = "running", secret_headers.masked(config)
        uow.commit()

    error: dict[str, Any] | None = None
    output: Any = None
    try:
        if refused is not None:  # its owner was deactivated or demoted since it started
            raise step_types.StepError(refused, "forbidden")
        output = step_types.execute(step["type"], config, ctx)
    except step_types.TransientStepError as e:
        throttled = e.code == "rate_limited"
        if retry < (THROTTLED_RETRIES if throttled else TRANSIENT_RETRIES):
            _note_attempt(execution_id, position, e)
            raise (Throttled if throttled else Transient)(e.message) from e
        error = {"code": e.code, "message": e.message, "attempts": retry + 1}
    except step_types.StepError as e:
        error = {"code": e.code, "message": e.message}
    except Exception as e:  # a bug in a step must still be recorded against that step
        logger.exception("workflow step crashed", extra={"step_type": step["type"]})
        error = {"code": "internal_error", "message": f"The step failed ({type(e).__name__})."}
    return _record(execution_id, position, step, output, error, ctx)


def _record(execution_id: str, position: int, step: dict[str, Any], output: Any,
            error: dict[str, Any] | None, ctx: step_types.StepContext) -> dict[str, Any]:
    with UnitOfWork() as uow:
        execution = uow.session.get(WorkflowExecution, execution_id)
        run = uow.session.get(WorkflowStepRun, (execution_id, position))
        if execution is None or run is None or execution.status != "running":
            return _route(execution_id, position, "done")  # cancelled while the step ran
        run.finished_at = now()
        if error is not None:
            run.error = error
            run.output = {"error": error}
            if step.get("on_error") == "continue":
                run.status = "failed_continued"
                return _next(uow, execution, position)
            run.status = "failed"
            uow.commit()
            # The machine's Catch records the failure (`record_failure`) from this message.
            raise Rejected(json.dumps({"step": step["id"], **error}))
        _store_output(run, output)
        for event_type, detail in ctx.events:
            uow.add_event(event_type, detail)
        if step["type"] == "delay":
            run.status, run.finished_at = "waiting", None
            uow.commit()
            return _route(execution_id, position + 1, "wait", int(output["seconds"]))
        if step["type"] == "condition" and not output["result"]:
            run.status = "stopped"
            _finish(uow, execution, "succeeded", ended_early_at=step["id"])
            uow.commit()
            return _route(execution_id, position + 1, "done")
        run.status = "succeeded"
        return _next(uow, execution, position)


def _next(uow: UnitOfWork, execution: WorkflowExecution, position: int) -> dict[str, Any]:
    """Commit the step; after the last one the execution finishes here (no extra task)."""
    if position + 1 >= len(execution.definition):
        _finish(uow, execution, "succeeded")
        uow.commit()
        return _route(execution.id, position + 1, "done")
    uow.commit()
    return _route(execution.id, position + 1, "run")


def _store_output(run: WorkflowStepRun, output: Any) -> None:
    text = json.dumps(output, default=str)
    run.output = json.loads(text)
    run.output_bytes = len(text.encode())


def _note_attempt(execution_id: str, position: int, e: step_types.StepError) -> None:
    with UnitOfWork() as uow:
        run = uow.session.get(WorkflowStepRun, (execution_id, position))
        if run is not None:
            run.error = {"code": e.code, "message": e.message, "retrying": True}
            uow.commit()


def _close_delay(previous: WorkflowStepRun | None) -> None:
    if previous is not None and previous.status == "waiting":
        previous.status, previous.finished_at = "succeeded", now()


def _resolved(step: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    config = dict(step.get("config") or {})
    if step["type"] == "transform":  # its fields are templates over each item, rendered later
        return {**render({k: v for k, v in config.items() if k != "fields"}, data),
                "fields": config.get("fields", {})}
    if "formula" in config:  # never templated (refused at save): a value must not become syntax
        return {**render({k: v for k, v in config.items() if k != "formula"}, data),
                "formula": config["formula"]}
    return render(config, data)


def _template_data(execution: WorkflowExecution, definition: list[dict[str, Any]],
                   runs: dict[int, WorkflowStepRun]) -> dict[str, Any]:
    outputs = {definition[p]["id"]: r.output for p, r in sorted(runs.items())
               if p < len(definition)}
    return {"input": execution.input or {}, "steps": outputs}


def _finish(uow: UnitOfWork, execution: WorkflowExecution, status: str,
            error: dict[str, Any] | None = None, ended_early_at: str | None = None) -> None:
    """Close the execution and announce it on the bus (after the commit)."""
    if execution.status != "running":
        return
    execution.status, execution.finished_at = status, now()
    execution.error = error
    workflow = uow.session.get(Workflow, execution.workflow_id)
    name = workflow.name if workflow else execution.workflow_id
    user_id = (workflow.created_by if workflow else None) or execution.run_as
    detail: dict[str, Any] = {
        "user_id": user_id, "workflow_id": execution.workflow_id, "execution_id": execution.id,
        "workspace_id": execution.workspace_id, "status": status,
        "trigger": execution.trigger_type}
    if status == "succeeded":
        detail["title"] = f"Workflow \u201c{name}\u201d finished"
        if ended_early_at:
            detail["ended_at_condition"] = ended_early_at
        uow.add_event("workflow.execution.finished", detail)
    else:
        detail["title"] = f"Workflow \u201c{name}\u201d failed"
        detail["body"] = str((error or {}).get("message", ""))
        detail["error"] = error
        uow.add_event("workflow.execution.failed", detail)


def record_failure(execution_id: str, error: dict[str, Any]) -> dict[str, Any]:
    """The machine's Catch: mark the execution failed (and a step left running, if any)."""
    failure = read_failure(error) or Failure("failed", "")
    try:  # a failed step's message is its error as JSON (`{"step", "code", "message"}`)
        detail = json.loads(failure.message) if failure.message.startswith("{") else None
    except ValueError:
        detail = None
    message = (detail or {}).get("message") or failure.message or failure.error
    with UnitOfWork() as uow:
        execution = uow.session.get(WorkflowExecution, execution_id)
        if execution is None:
            return {"execution_id": execution_id, "status": "unknown"}
        for run in uow.session.scalars(select(WorkflowStepRun).where(
                WorkflowStepRun.execution_id == execution_id,
                WorkflowStepRun.status.in_(("running", "waiting")))):
            run.status, run.finished_at = "failed", now()
            run.error = run.error or {"code": failure.error, "message": message}
        _finish(uow, execution, "failed", error={
            "code": (detail or {}).get("code") or failure.error, "message": message,
            **({"step": detail["step"]} if detail and "step" in detail else {})})
        uow.commit()
        return {"execution_id": execution_id, "status": execution.status}
