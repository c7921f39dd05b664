"""Commands of the workspaces API whose input is more than a body or one id: a route's path
values and its body's fields as one object."""

from __future__ import annotations

from dataclasses import dataclass

from common.workspaces.schemas import Role


@dataclass(frozen=True, kw_only=True)
class RenameWorkspace:
    """PATCH /api/workspaces/{workspace_id}."""

    workspace_id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class OnMember:
    """DELETE /api/workspaces/{workspace_id}/members/{user_id} (a member removed, or leaving)."""

    workspace_id: str
    user_id: str


@dataclass(frozen=True, kw_only=True)
class ChangeRole(OnMember):
    """PATCH /api/workspaces/{workspace_id}/members/{user_id}."""

    role: Role


@dataclass(frozen=True, kw_only=True)
class Invite:
    """POST /api/workspaces/{workspace_id}/invitations."""

    workspace_id: str
    email: str
    role: Role


@dataclass(frozen=True, kw_only=True)
class RevokeInvitation:
    """DELETE /api/workspaces/{workspace_id}/invitations/{invitation_id}."""

    workspace_id: str
    invitation_id: str
