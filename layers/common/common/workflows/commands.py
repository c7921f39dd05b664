"""Commands of the workflows API: a route's path and query values (and its body) as one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.workflows.definitions import WorkflowIn, WorkflowPatch


@dataclass(frozen=True, kw_only=True)
class ListWorkflows:
    """GET /api/workflows: one workspace or all of the caller's, and the page to read."""

    workspace_id: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReplaceWorkflow:
    """PUT /api/workflows/{workflow_id}."""

    workflow_id: str
    body: WorkflowIn


@dataclass(frozen=True, kw_only=True)
class PatchWorkflow:
    """PATCH /api/workflows/{workflow_id}."""

    workflow_id: str
    body: WorkflowPatch


@dataclass(frozen=True, kw_only=True)
class ExecuteWorkflow:
    """POST /api/workflows/{workflow_id}/execute: the run's input and its Idempotency-Key."""

    workflow_id: str
    input: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ListExecutions:
    """GET /api/workflows/{workflow_id}/executions: the page to read."""

    workflow_id: str
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class HookCall:
    """POST /api/workflows/hooks/{workflow_id}: the body exactly as signed."""

    workflow_id: str
    body: bytes


@dataclass(frozen=True, kw_only=True)
class HookCaller:
    """All a webhook trigger's public route knows of its caller: the signature it sent."""

    signature: str | None = None
