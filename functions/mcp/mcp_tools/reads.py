"""Tools and the resource that read: workspaces, bases, schemas, records, workflows, inbox."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from common.airtable import service as airtable
from common.airtable.commands import GetRecord, ListRecords, OnBase
from common.airtable.schemas import RecordQuery
from common.core.db import UnitOfWork
from common.core.schemas import parse
from common.notifications import inbox
from common.notifications.commands import ListInbox
from common.workflows import service as workflows
from common.workflows.commands import ListWorkflows
from common.workspaces import service as workspaces
from mcp_tools import models
from mcp_tools.caller import caller
from mcp_tools.results import tool_errors
from mcp_tools.server import READ, server

# API.md: at most 100 records per call; `offset` continues.
PAGE = 100
LIST_LIMIT = 100

BaseId = Annotated[str, Field(description="the base id (app...)")]
TableRef = Annotated[str, Field(description="table id (tbl...) or name")]
WorkspaceId = Annotated[str | None, Field(description="only this workspace (default: all)")]


@server.tool(annotations=READ)
@tool_errors
def list_workspaces() -> models.Workspaces:
    """The workspaces you belong to, with your role in each (viewer, editor, owner)."""
    page = workspaces.list_mine(UnitOfWork(), caller())
    return models.Workspaces(workspaces=page.model_dump(mode="json")["items"])


@server.tool(annotations=READ)
@tool_errors
def list_bases(workspace_id: WorkspaceId = None) -> models.Bases:
    """The Airtable bases your workspaces' connections reach."""
    if workspace_id is None:
        page = airtable.bases(None, UnitOfWork(), caller()).value
        return models.Bases(bases=page.model_dump(mode="json")["items"])
    found: dict[str, Any] = {}
    for connection in airtable.list_connections(workspace_id, UnitOfWork(), caller()).items:
        for base in airtable.bases(connection.id, UnitOfWork(), caller()).value.items:
            found.setdefault(base.id, base.model_dump(mode="json"))
    return models.Bases(bases=list(found.values()))


@server.tool(annotations=READ)
@tool_errors
def describe_base(base_id: BaseId) -> models.BaseSchema:
    """A base's tables and their fields, with field types and the choices of select fields."""
    schema = airtable.base_schema(OnBase(base_id=base_id), UnitOfWork(), caller()).value
    return compact_schema(base_id, schema.model_dump(mode="json"))


@server.resource("airtable://{base_id}/schema", mime_type="application/json",
                 description="The base's tables, fields and views, as Airtable describes them.")
def base_schema(base_id: str) -> str:
    """A base's schema as JSON."""
    schema = airtable.base_schema(OnBase(base_id=base_id), UnitOfWork(), caller()).value
    return json.dumps(schema.model_dump(mode="json"))


@server.tool(annotations=READ)
@tool_errors
def list_records(
    base_id: BaseId, table: TableRef,
    filter: Annotated[dict[str, Any] | None, Field(
        description="field name -> value, all must match (built safely)")] = None,
    formula: Annotated[str | None, Field(description="a raw Airtable formula")] = None,
    fields: Annotated[list[str] | None, Field(
        description="only these fields (keeps large tables out of your context)")] = None,
    sort: Annotated[list[str] | None, Field(description="field names, `-field` descending")] = None,
    max_records: Annotated[int | None, Field(ge=1, description="stop after this many")] = None,
    offset: Annotated[str | None, Field(description="the offset a previous call returned")] = None,
) -> models.Records:
    """One page of at most 100 records; pass the returned offset to continue."""
    query = parse(RecordQuery, {"page_size": min(PAGE, max_records or PAGE),
                                "max_records": max_records, "filter": filter,
                                "formula": formula, "fields": fields or [],
                                "sort": sort or [], "offset": offset})
    cmd = ListRecords(base_id=base_id, table=table, query=query)
    page = airtable.list_records(cmd, UnitOfWork(), caller()).value.model_dump(mode="json")
    return models.Records(records=page["records"], offset=page.get("offset"))


@server.tool(annotations=READ)
@tool_errors
def get_record(base_id: BaseId, table: TableRef,
               record_id: Annotated[str, Field(description="the record id (rec...)")]
               ) -> models.Record:
    """One record with its fields."""
    cmd = GetRecord(base_id=base_id, table=table, record_id=record_id)
    return models.Record(**airtable.get_record(cmd, UnitOfWork(), caller()).value.model_dump())


@server.tool(annotations=READ)
@tool_errors
def list_workflows(workspace_id: WorkspaceId = None) -> models.Workflows:
    """Workflows of your workspaces, newest first."""
    cmd = ListWorkflows(workspace_id=workspace_id, limit=LIST_LIMIT)
    page = workflows.list_workflows(cmd, UnitOfWork(), caller()).model_dump(mode="json")
    return models.Workflows(workflows=[
        {**w, "trigger": w["trigger"].get("type", "")} for w in page["items"]],
        next_cursor=page["next_cursor"])


@server.tool(annotations=READ)
@tool_errors
def list_notifications(unread: Annotated[bool, Field(description="only unread ones")] = False
                       ) -> models.Notifications:
    """Your notifications, newest first (transactions, workflows and imports report here)."""
    cmd = ListInbox(unread=unread, limit=LIST_LIMIT)
    page = inbox.list_for(cmd, UnitOfWork(), caller()).model_dump(mode="json")
    return models.Notifications(notifications=page["items"], next_cursor=page["next_cursor"])


def compact_schema(base_id: str, schema: dict[str, Any]) -> models.BaseSchema:
    """Airtable's schema without views and field options, but with select choices."""
    return models.BaseSchema(base_id=base_id, tables=[
        models.Table(id=t["id"], name=t["name"], primary_field_id=t.get("primaryFieldId"),
                     fields=[models.Field(id=f["id"], name=f["name"], type=f["type"],
                                          choices=_choices(f)) for f in t["fields"]])
        for t in schema["tables"]])


def _choices(field: dict[str, Any]) -> list[str] | None:
    choices = (field.get("options") or {}).get("choices")
    return [c["name"] for c in choices] if choices else None
