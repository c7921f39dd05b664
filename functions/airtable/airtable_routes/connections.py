"""Connections: a workspace's Airtable tokens."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from airtable_routes import TAGS
from common.airtable import service
from common.airtable.schemas import ConnectionOut, NewConnection
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.schemas import Page, documented

router = Router()


@router.post("/api/airtable/connections", summary="Add a verified Airtable token to a workspace",
             tags=TAGS, status_code=201)
def add_connection(body: NewConnection, caller: Caller, uow: Uow) -> ConnectionOut:
    return service.add_connection(body, uow, caller)


@router.get("/api/airtable/connections", summary="Connections of your workspaces", tags=TAGS)
def list_connections(caller: Caller, uow: ReadUow,
                     workspace_id: Annotated[str | None, Query(max_length=32)] = None,
                     ) -> Page[ConnectionOut]:
    return service.list_connections(workspace_id, uow, caller)


@router.delete("/api/airtable/connections/<connection_id>", summary="Delete a connection",
               tags=TAGS, status_code=204, responses=documented(204, description="Deleted"))
def delete_connection(connection_id: str, caller: Caller, uow: Uow) -> None:
    service.remove_connection(connection_id, uow, caller)
