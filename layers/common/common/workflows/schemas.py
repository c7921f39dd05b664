"""Response models of the workflows API (its request models are in `definitions`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from common.core.schemas import IsoTime, Sparse


class WatchOut(BaseModel):
    """The Airtable webhook an airtable_change trigger reads its changes from."""

    webhook_id: str | None
    table_id: str | None
    expires_at: str | None


class WorkflowOut(Sparse):
    """A workflow; step configs stay free-form, secret header values masked."""

    id: str
    workspace_id: str
    name: str
    description: str
    trigger: dict[str, Any]
    steps: list[dict[str, Any]]
    enabled: bool
    created_by: str | None
    run_as: str | None
    next_run_at: IsoTime | None
    created_at: IsoTime | None
    updated_at: IsoTime | None
    webhook_path: str | None = None  # webhook triggers: where to call it
    watch: WatchOut | None = None  # airtable_change triggers
    webhook_secret: str | None = None  # a webhook trigger's new secret, shown once


class ExecutionStarted(BaseModel):
    """A run just started (or the one an Idempotency-Key already started)."""

    execution_id: str
    status: str


class ExecutionTrigger(BaseModel):
    """What started an execution, with its once-only key (a schedule slot, a signature...)."""

    type: str
    key: str | None


class StepResultOut(Sparse):
    """A step of an execution, as far as it ran."""

    # A step never reached has only its id, type, position and status (pending or skipped);
    # its input and output are shown in the one execution's view, not in the list.

    id: str
    type: str
    position: int
    status: str
    attempts: int | None = None
    started_at: IsoTime | None = None
    finished_at: IsoTime | None = None
    duration_ms: float | None = None
    error: dict[str, Any] | None = None
    continued: bool | None = None  # failed with on_error: continue
    ended_execution: bool | None = None  # a condition that was false
    input: dict[str, Any] | None = None
    output_bytes: int | None = None
    output: Any = None
    output_truncated: bool | None = None  # too large to show: output is null


class ExecutionOut(BaseModel):
    """An execution with its per-step results."""

    id: str
    workflow_id: str
    workspace_id: str
    status: str
    trigger: ExecutionTrigger
    input: dict[str, Any] | None
    started_by: str | None
    started_at: IsoTime | None
    finished_at: IsoTime | None
    duration_ms: float | None
    error: dict[str, Any] | None
    steps: list[StepResultOut]
