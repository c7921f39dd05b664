"""Bases and their schema: tables and fields."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from airtable_routes import BASE, TABLE, TAGS, ConnectionId, cached
from common.airtable import service
from common.airtable.commands import CreateField, CreateTable, OnBase, UpdateField, UpdateTable
from common.airtable.ids import BaseId, FieldId, TableRef
from common.airtable.schemas import (
    BaseOut,
    BaseSchemaOut,
    FieldOut,
    FieldSpec,
    NewTable,
    Rename,
    TableOut,
)
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.schemas import Page

router = Router()


@router.get("/api/airtable/bases", summary="Bases your connections reach", tags=TAGS)
def list_bases(caller: Caller, uow: ReadUow,
               connection_id: ConnectionId = None) -> Response[Page[BaseOut]]:
    return cached(service.bases(connection_id, uow, caller))


@router.get(BASE + "/schema", summary="Tables, fields and views of a base", tags=TAGS)
def base_schema(base_id: BaseId, caller: Caller, uow: ReadUow,
                connection_id: ConnectionId = None) -> Response[BaseSchemaOut]:
    return cached(service.base_schema(OnBase(base_id=base_id, connection_id=connection_id),
                                      uow, caller))


@router.post(BASE + "/tables", summary="Create a table", tags=TAGS, status_code=201)
def create_table(base_id: BaseId, body: NewTable, caller: Caller, uow: Uow,
                 connection_id: ConnectionId = None) -> TableOut:
    cmd = CreateTable(base_id=base_id, connection_id=connection_id, body=body)
    return service.create_table(cmd, uow, caller)


@router.patch(TABLE, summary="Rename a table or change its description", tags=TAGS)
def update_table(base_id: BaseId, table: TableRef, body: Rename, caller: Caller, uow: Uow,
                 connection_id: ConnectionId = None) -> TableOut:
    cmd = UpdateTable(base_id=base_id, connection_id=connection_id, table=table, body=body)
    return service.update_table(cmd, uow, caller)


@router.post(TABLE + "/fields", summary="Add a field", tags=TAGS, status_code=201)
def create_field(base_id: BaseId, table: TableRef, body: FieldSpec, caller: Caller, uow: Uow,
                 connection_id: ConnectionId = None) -> FieldOut:
    cmd = CreateField(base_id=base_id, connection_id=connection_id, table=table, body=body)
    return service.create_field(cmd, uow, caller)


@router.patch(TABLE + "/fields/<field_id>", summary="Rename a field", tags=TAGS)
def update_field(base_id: BaseId, table: TableRef, field_id: FieldId, body: Rename,
                 caller: Caller, uow: Uow, connection_id: ConnectionId = None) -> FieldOut:
    cmd = UpdateField(base_id=base_id, connection_id=connection_id, table=table,
                      field_id=field_id, body=body)
    return service.update_field(cmd, uow, caller)
