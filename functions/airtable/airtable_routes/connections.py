"""Connections: a workspace's Airtable tokens."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from airtable_routes import TAGS, created, no_content
from common.airtable import service
from common.airtable.schemas import NewConnection
from common.identity import current_identity

router = Router()


@router.post("/api/airtable/connections", summary="Add a verified Airtable token to a workspace",
             tags=TAGS)
def add_connection(body: NewConnection):
    return created(service.add_connection(current_identity(router), body))


@router.get("/api/airtable/connections", summary="Connections of your workspaces", tags=TAGS)
def list_connections(
        workspace_id: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    return service.list_connections(current_identity(router), workspace_id)


@router.delete("/api/airtable/connections/<connection_id>", summary="Delete a connection",
               tags=TAGS)
def delete_connection(connection_id: str):
    service.remove_connection(current_identity(router), connection_id)
    return no_content()
