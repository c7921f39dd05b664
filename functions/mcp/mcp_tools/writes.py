"""Tools that write: every write is an airtable_transaction the agent can undo."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from common.core.db import UnitOfWork
from common.sagas.schemas import Operation
from common.workflows import service as workflows
from common.workflows.commands import ExecuteWorkflow
from mcp_tools import models, transactions
from mcp_tools.caller import caller
from mcp_tools.reads import BaseId, TableRef
from mcp_tools.results import tool_errors
from mcp_tools.server import READ, server, write
from mcp_tools.transactions import TransactionResult

# Either the transaction (structured, checked against its schema) or an error result.
Result = Annotated[CallToolResult, TransactionResult]
DryRun = Annotated[bool, Field(description="check against the base's schema and records; "
                                           "write nothing")]
Typecast = Annotated[bool, Field(description="let Airtable convert values (e.g. new choices)")]
TransactionId = Annotated[str, Field(description="the transaction_id a write tool returned")]


class NewRecord(BaseModel):
    fields: dict[str, Any]


class ChangedRecord(BaseModel):
    id: str | None = Field(None, description="the record to update (omit when merge_on is set)")
    fields: dict[str, Any]


@server.tool(annotations=write(destructive=False, idempotent=False))
@tool_errors
def create_records(base_id: BaseId, table: TableRef, records: list[NewRecord],
                   typecast: Typecast = False, dry_run: DryRun = False) -> Result:
    """Create records in one table, all or nothing; returns the transaction (undoable)."""
    return _one(base_id, "create", table, [r.model_dump() for r in records], typecast, dry_run)


@server.tool(annotations=write(destructive=True, idempotent=True))
@tool_errors
def update_records(
    base_id: BaseId, table: TableRef, records: list[ChangedRecord],
    merge_on: Annotated[list[str] | None, Field(
        description="upsert: match records on these fields instead of ids")] = None,
    typecast: Typecast = False, dry_run: DryRun = False,
) -> Result:
    """Update records by id (or upsert them with merge_on), all or nothing; undoable."""
    rows = [r.model_dump(exclude_none=True) for r in records]
    return _one(base_id, "upsert" if merge_on else "update", table, rows, typecast, dry_run,
                merge_on=merge_on)


@server.tool(annotations=write(destructive=True, idempotent=True))
@tool_errors
def delete_records(base_id: BaseId, table: TableRef,
                   ids: Annotated[list[str], Field(description="record ids (rec...)")],
                   dry_run: DryRun = False) -> Result:
    """Delete records by id, all or nothing; undo_transaction re-creates them."""
    return _one(base_id, "delete", table, [{"id": i} for i in ids], False, dry_run)


@server.tool(annotations=write(destructive=True, idempotent=False))
@tool_errors
def run_transaction(base_id: BaseId, operations: list[Operation],
                    dry_run: DryRun = False) -> Result:
    """Apply create/update/upsert/delete operations on tables of one base in order, all or
    nothing (on failure every applied operation is rolled back); waits up to 25 s."""
    return transactions.run(base_id, [op.model_dump(exclude_none=True) for op in operations],
                            dry_run)


@server.tool(annotations=READ)
@tool_errors
def get_transaction(transaction_id: TransactionId) -> Result:
    """A transaction's status, steps and outcome."""
    return transactions.get(transaction_id)


@server.tool(annotations=write(destructive=True, idempotent=True))
@tool_errors
def undo_transaction(transaction_id: TransactionId,
                     force: Annotated[bool, Field(
                         description="overwrite records edited since the transaction")] = False
                     ) -> Result:
    """Revert a succeeded transaction (records it created are deleted, updated ones restored,
    deleted ones re-created); refused if its records changed since, unless force."""
    return transactions.undo(transaction_id, force)


@server.tool(annotations=write(destructive=True, idempotent=False))
@tool_errors
def run_workflow(workflow_id: Annotated[str, Field(description="the workflow's id")],
                 input: Annotated[dict[str, Any] | None, Field(
                     description="the execution's input")] = None) -> models.Execution:
    """Start a workflow now (as its manual trigger does); returns its execution id."""
    cmd = ExecuteWorkflow(workflow_id=workflow_id, input=input or {})
    return models.Execution(**workflows.execute(cmd, UnitOfWork(), caller()).model_dump())


def _one(base_id: str, action: str, table: str, records: list[dict[str, Any]], typecast: bool,
         dry_run: bool, **extra: Any) -> Result:
    operation = {"action": action, "table": table, "records": records, "typecast": typecast,
                 **{k: v for k, v in extra.items() if v is not None}}
    return transactions.run(base_id, [operation], dry_run)
