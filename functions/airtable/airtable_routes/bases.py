"""Bases and their schema: tables and fields."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from airtable_routes import BASE, TABLE, TAGS, ConnectionId, cached, created
from common.airtable import service
from common.airtable.ids import BaseId, FieldId, TableRef
from common.airtable.schemas import FieldSpec, NewTable, Rename
from common.identity import current_identity

router = Router()


@router.get("/api/airtable/bases", summary="Bases your connections reach", tags=TAGS)
def list_bases(connection_id: ConnectionId = None):
    return cached(service.bases(current_identity(router), connection_id))


@router.get(BASE + "/schema", summary="Tables, fields and views of a base", tags=TAGS)
def base_schema(base_id: BaseId, connection_id: ConnectionId = None):
    return cached(service.base_schema(current_identity(router), base_id, connection_id))


@router.post(BASE + "/tables", summary="Create a table", tags=TAGS)
def create_table(base_id: BaseId, body: NewTable, connection_id: ConnectionId = None):
    return created(service.create_table(current_identity(router), base_id, body, connection_id))


@router.patch(TABLE, summary="Rename a table or change its description", tags=TAGS)
def update_table(base_id: BaseId, table: TableRef, body: Rename,
                 connection_id: ConnectionId = None) -> dict:
    return service.update_table(current_identity(router), base_id, table, body, connection_id)


@router.post(TABLE + "/fields", summary="Add a field", tags=TAGS)
def create_field(base_id: BaseId, table: TableRef, body: FieldSpec,
                 connection_id: ConnectionId = None):
    return created(service.create_field(current_identity(router), base_id, table, body,
                                        connection_id))


@router.patch(TABLE + "/fields/<field_id>", summary="Rename a field", tags=TAGS)
def update_field(base_id: BaseId, table: TableRef, field_id: FieldId, body: Rename,
                 connection_id: ConnectionId = None) -> dict:
    return service.update_field(current_identity(router), base_id, table, field_id, body,
                                connection_id)
