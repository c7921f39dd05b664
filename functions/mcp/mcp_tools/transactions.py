"""Writes as sagas: start an airtable_transaction (or its undo), wait for its end, report it."""

from __future__ import annotations

import json
import time
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from common.core import deadline
from common.core.db import UnitOfWork
from common.core.schemas import parse
from common.sagas import service as sagas
from common.sagas.commands import RevertSaga, StartOnce
from common.sagas.schemas import StartSaga
from mcp_tools.caller import caller

# API.md: a write tool waits up to 25 s for its transaction to end (API Gateway gives up at 30).
WAIT_SECONDS = 25.0
# Room kept before the invocation's own deadline to answer with what is known.
DEADLINE_MARGIN = 2.0
POLL_SECONDS = 0.2
ENDED = frozenset({"succeeded", "compensated", "failed", "cancelled", "undone"})
ROLLED_BACK = frozenset({"compensated", "failed"})


class TransactionResult(BaseModel):
    """A transaction as a tool reports it; a dry run has `valid` and `operations` instead."""

    status: str
    transaction_id: str | None = None
    summary: str | None = None
    steps: list[dict[str, Any]] | None = None
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    valid: bool | None = None
    operations: list[dict[str, Any]] | None = None


def run(base_id: str, operations: list[dict[str, Any]], dry_run: bool) -> CallToolResult:
    """Check (dry run) or apply the operations as one transaction, waiting for its end."""
    body = parse(StartSaga, {"type": "airtable_transaction", "dry_run": dry_run,
                             "input": {"base_id": base_id, "operations": operations}})
    started = sagas.start(StartOnce(body=body), UnitOfWork(), caller()).model_dump(mode="json")
    if dry_run:
        return structured(TransactionResult(status="dry_run", **started))
    return reported(wait(started["saga_id"]))


def undo(transaction_id: str, force: bool) -> CallToolResult:
    """Revert a succeeded transaction, waiting for the undo to end."""
    sagas.undo(RevertSaga(saga_id=transaction_id, force=force), UnitOfWork(), caller())
    return reported(wait(transaction_id))


def get(transaction_id: str) -> CallToolResult:
    """A transaction as it stands, without waiting."""
    saga = sagas.get(transaction_id, UnitOfWork(read_only=True), caller())
    return structured(compact(saga.model_dump(mode="json")))


def wait(saga_id: str) -> dict[str, Any]:
    """The saga once it ends, or as it stands when the wait runs out."""
    until = time.time() + WAIT_SECONDS
    ends = deadline.at()
    if ends is not None:
        until = min(until, ends - DEADLINE_MARGIN)
    while True:
        saga = sagas.get(saga_id, UnitOfWork(read_only=True), caller()).model_dump(mode="json")
        if saga["status"] in ENDED or time.time() >= until:
            return saga
        time.sleep(POLL_SECONDS)


def structured(result: TransactionResult, text: str | None = None,
               is_error: bool = False) -> CallToolResult:
    """The result as structured content (unset fields left out) and as text."""
    content = result.model_dump(mode="json", exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=text or json.dumps(content))],
                          structured_content=content, is_error=is_error)


def reported(saga: dict[str, Any]) -> CallToolResult:
    """The compact transaction; one that was rolled back is an error result saying so."""
    result = compact(saga)
    if saga["status"] not in ROLLED_BACK:
        return structured(result)
    failed = next((s for s in result.steps or [] if s.get("error")), None)
    reason = _reason(saga.get("error") or (failed or {}).get("error"))
    where = f" at step {failed['index'] + 1} ({failed['name']})" if failed else ""
    rolled = ("everything it applied was rolled back" if saga["status"] == "compensated"
              else "rolling back what it applied failed too; see left_to_undo")
    text = f"Transaction {saga['id']} failed{where}: {reason}; {rolled}."
    return structured(result, text, is_error=True)


def compact(saga: dict[str, Any]) -> TransactionResult:
    """The saga without its input (the agent sent it): id, status, summary, steps, outcome."""
    steps = [{k: v for k, v in step.items() if k not in ("started_at", "finished_at")}
             for step in saga["steps"]]
    output = saga.get("output")
    if saga.get("left_to_undo"):
        output = {**(output or {}), "left_to_undo": saga["left_to_undo"]}
    return TransactionResult(transaction_id=saga["id"], status=saga["status"],
                             summary=summary(saga), steps=steps, output=output,
                             error=saga.get("error"))


def summary(saga: dict[str, Any]) -> str:
    """One line a person reads: what the transaction does, and where it stands."""
    operations = saga.get("input", {}).get("operations", [])
    parts = [f"{op['action']} {len(op['records'])} record"
             f"{'' if len(op['records']) == 1 else 's'} in {op['table']}" for op in operations]
    return f"{'; '.join(parts) or saga['type']} ({saga['status']})"


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("error") or error)
    return str(error) if error else "it did not finish"
