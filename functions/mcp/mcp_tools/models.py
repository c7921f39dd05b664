"""The tools' outputs: compact on purpose (what an agent needs, not every column of the API)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Workspace(BaseModel):
    id: str
    name: str
    role: str
    personal: bool


class Workspaces(BaseModel):
    workspaces: list[Workspace]


class Base(BaseModel):
    id: str
    name: str
    workspace_id: str | None = None
    permission_level: str | None = None


class Bases(BaseModel):
    bases: list[Base]


class Field(BaseModel):
    id: str
    name: str
    type: str
    choices: list[str] | None = None


class Table(BaseModel):
    id: str
    name: str
    primary_field_id: str | None = None
    fields: list[Field]


class BaseSchema(BaseModel):
    base_id: str
    tables: list[Table]


class Record(BaseModel):
    id: str
    fields: dict[str, Any]


class Records(BaseModel):
    records: list[Record]
    offset: str | None = None


class Workflow(BaseModel):
    id: str
    name: str
    workspace_id: str
    description: str | None = None
    trigger: str
    enabled: bool


class Workflows(BaseModel):
    workflows: list[Workflow]
    next_cursor: str | None = None


class Execution(BaseModel):
    execution_id: str
    status: str


class Notification(BaseModel):
    id: str
    type: str
    title: str
    body: str
    read: bool
    created_at: str


class Notifications(BaseModel):
    notifications: list[Notification]
    next_cursor: str | None = None
