"""Workspaces, members and invitations (`/api/workspaces`)."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from common.core.dependencies import Caller, ReadUow, Uow
from common.core.schemas import Page, documented
from common.workspaces import service
from common.workspaces.commands import (
    ChangeRole,
    Invite,
    OnMember,
    RenameWorkspace,
    RevokeInvitation,
)
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


@router.post("/api/workspaces", summary="Create a workspace (you become its owner)", tags=TAGS,
             status_code=201, responses=documented(201, description="Created"))
def create(body: WorkspaceIn, caller: Caller, uow: Uow) -> WorkspaceOut:
    return service.create(body, uow, caller)


@router.get("/api/workspaces", summary="Your workspaces with your role", tags=TAGS)
def list_mine(caller: Caller, uow: ReadUow) -> Page[WorkspaceOut]:
    return service.list_mine(uow, caller)


@router.post("/api/workspaces/invitations/accept", summary="Join through an invitation",
             tags=TAGS)
def accept(body: AcceptIn, caller: Caller, uow: Uow) -> MembershipOut:
    return service.accept(body, uow, caller)


@router.get(WORKSPACE, summary="One of your workspaces", tags=TAGS)
def get(workspace_id: str, caller: Caller, uow: ReadUow) -> WorkspaceOut:
    return service.get(workspace_id, uow, caller)


@router.patch(WORKSPACE, summary="Rename a workspace (owner)", tags=TAGS)
def rename(workspace_id: str, body: WorkspaceIn, caller: Caller, uow: Uow) -> WorkspaceOut:
    return service.rename(RenameWorkspace(workspace_id=workspace_id, name=body.name), uow, caller)


@router.delete(WORKSPACE, summary="Delete a workspace and what it holds (owner)", tags=TAGS,
               status_code=204, responses=documented(204, description="Deleted"))
def delete(workspace_id: str, caller: Caller, uow: Uow) -> None:
    service.delete(workspace_id, uow, caller)


@router.get(WORKSPACE + "/members", summary="Members and their roles", tags=TAGS)
def members(workspace_id: str, caller: Caller, uow: ReadUow) -> Page[MemberOut]:
    return service.members(workspace_id, uow, caller)


@router.patch(WORKSPACE + "/members/<user_id>", summary="Change a member's role (owner)",
              tags=TAGS)
def change_role(workspace_id: str, user_id: str, body: RoleIn, caller: Caller,
                uow: Uow) -> MemberOut:
    cmd = ChangeRole(workspace_id=workspace_id, user_id=user_id, role=body.role)
    return service.change_role(cmd, uow, caller)


@router.delete(WORKSPACE + "/members/<user_id>", summary="Remove a member (owner) or leave",
               tags=TAGS, status_code=204, responses=documented(204, description="Removed"))
def remove_member(workspace_id: str, user_id: str, caller: Caller, uow: Uow) -> None:
    service.remove_member(OnMember(workspace_id=workspace_id, user_id=user_id), uow, caller)


@router.post(WORKSPACE + "/invitations", summary="Invite an email with a role (owner)",
             tags=TAGS, status_code=201, responses=documented(201, description="Invited"))
def invite(workspace_id: str, body: InvitationIn, caller: Caller, uow: Uow) -> InvitationOut:
    cmd = Invite(workspace_id=workspace_id, email=body.email, role=body.role)
    return service.invite(cmd, uow, caller)


@router.get(WORKSPACE + "/invitations", summary="The workspace's invitations (owner)",
            tags=TAGS)
def invitations(workspace_id: str, caller: Caller, uow: ReadUow) -> Page[InvitationOut]:
    return service.list_invitations(workspace_id, uow, caller)


@router.delete(WORKSPACE + "/invitations/<invitation_id>", summary="Withdraw an invitation",
               tags=TAGS, status_code=204, responses=documented(204, description="Withdrawn"))
def revoke_invitation(workspace_id: str, invitation_id: str, caller: Caller, uow: Uow) -> None:
    cmd = RevokeInvitation(workspace_id=workspace_id, invitation_id=invitation_id)
    service.revoke_invitation(cmd, uow, caller)
