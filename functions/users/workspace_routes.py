"""Workspaces, members and invitations (`/api/workspaces`)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from common.db import UnitOfWork
from common.http import JSON
from common.identity import current_identity
from common.schemas import Page, documented
from common.workspaces import service
from common.workspaces.schemas import (
    AcceptIn,
    InvitationIn,
    InvitationOut,
    MemberOut,
    MembershipOut,
    RoleIn,
    WorkspaceIn,
    WorkspaceOut,
)

router = Router()
TAGS = ["workspaces"]
WORKSPACE = "/api/workspaces/<workspace_id>"


def _created(body: dict) -> Response:
    return Response(status_code=201, content_type=JSON, body=body)


def _no_content() -> Response:
    return Response(status_code=204, content_type=JSON, body="")


@router.post("/api/workspaces", summary="Create a workspace (you become its owner)", tags=TAGS,
             responses=documented(201, WorkspaceOut, "Created"))
def create(body: WorkspaceIn):
    return _created(service.create(body, UnitOfWork(), current_identity(router)))


@router.get("/api/workspaces", summary="Your workspaces with your role", tags=TAGS,
            responses=documented(200, Page))
def list_mine() -> dict:
    return service.list_mine(UnitOfWork(), current_identity(router))


@router.post("/api/workspaces/invitations/accept", summary="Join through an invitation",
             tags=TAGS, responses=documented(200, MembershipOut))
def accept(body: AcceptIn) -> dict:
    return service.accept(body, UnitOfWork(), current_identity(router))


@router.get(WORKSPACE, summary="One of your workspaces", tags=TAGS,
            responses=documented(200, WorkspaceOut))
def get(workspace_id: str) -> dict:
    return service.get(workspace_id, UnitOfWork(), current_identity(router))


@router.patch(WORKSPACE, summary="Rename a workspace (owner)", tags=TAGS,
              responses=documented(200, WorkspaceOut))
def rename(workspace_id: str, body: WorkspaceIn) -> dict:
    return service.rename(workspace_id, body, UnitOfWork(), current_identity(router))


@router.delete(WORKSPACE, summary="Delete a workspace and what it holds (owner)", tags=TAGS,
               responses=documented(204, description="Deleted"))
def delete(workspace_id: str):
    service.delete(workspace_id, UnitOfWork(), current_identity(router))
    return _no_content()


@router.get(WORKSPACE + "/members", summary="Members and their roles", tags=TAGS,
            responses=documented(200, Page))
def members(workspace_id: str) -> dict:
    return service.members(workspace_id, UnitOfWork(), current_identity(router))


@router.patch(WORKSPACE + "/members/<user_id>", summary="Change a member's role (owner)",
              tags=TAGS, responses=documented(200, MemberOut))
def change_role(workspace_id: str, user_id: str, body: RoleIn) -> dict:
    return service.change_role(workspace_id, user_id, body, UnitOfWork(),
                               current_identity(router))


@router.delete(WORKSPACE + "/members/<user_id>", summary="Remove a member (owner) or leave",
               tags=TAGS, responses=documented(204, description="Removed"))
def remove_member(workspace_id: str, user_id: str):
    service.remove_member(workspace_id, user_id, UnitOfWork(), current_identity(router))
    return _no_content()


@router.post(WORKSPACE + "/invitations", summary="Invite an email with a role (owner)",
             tags=TAGS, responses=documented(201, InvitationOut, "Invited"))
def invite(workspace_id: str, body: InvitationIn):
    return _created(service.invite(workspace_id, body, UnitOfWork(), current_identity(router)))


@router.get(WORKSPACE + "/invitations", summary="The workspace's invitations (owner)",
            tags=TAGS, responses=documented(200, Page))
def invitations(workspace_id: str) -> dict:
    return service.list_invitations(workspace_id, UnitOfWork(), current_identity(router))


@router.delete(WORKSPACE + "/invitations/<invitation_id>", summary="Withdraw an invitation",
               tags=TAGS, responses=documented(204, description="Withdrawn"))
def revoke_invitation(workspace_id: str, invitation_id: str):
    service.revoke_invitation(workspace_id, invitation_id, UnitOfWork(), current_identity(router))
    return _no_content()
